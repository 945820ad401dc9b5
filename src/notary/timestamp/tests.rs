//! Unit tests of the timestamp token: helpers, received bytes, chain validity at genTime, codes.

use super::cms::{ber_to_der, split_tlvs};
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

/// Red team M, M02: tspclient-go converts a token from BER to DER before parsing it (definite
/// lengths only), so a TSA's non-minimal length octets verify; an indefinite length does not.
#[test]
fn a_ber_token_is_read_as_its_der_form() {
    // DER comes back unchanged; a long form for a short length and leading zero octets are
    // re-encoded; nested values too.
    let der = [0x30, 0x05, 0x04, 0x03, 0x01, 0x02, 0x03];
    assert_eq!(ber_to_der(&der).unwrap(), der);
    let ber = [
        0x30, 0x84, 0, 0, 0, 0x07, 0x04, 0x82, 0x00, 0x03, 0x01, 0x02, 0x03,
    ];
    // (an OCTET STRING's content is kept as it is, whatever it holds)
    assert_eq!(ber_to_der(&ber).unwrap(), der);
    assert!(ber_to_der(&ber[..ber.len() - 1]).is_err(), "cut short");
    let ber = [0x30, 0x81, 0x07, 0x04, 0x82, 0x00, 0x03, 0x01, 0x02, 0x03];
    assert_eq!(ber_to_der(&ber).unwrap(), der);
    for bad in [
        &[0x30, 0x80, 0x04, 0x00, 0x00, 0x00][..],
        &[0x30, 0x03, 0x04, 0x01][..],
        &[0x30, 0x00, 0x00][..],
        &[0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0][..],
        &[0x1f][..],
        &[][..],
    ] {
        assert!(ber_to_der(bad).is_err(), "{bad:02x?}");
    }
    let mut deep: Vec<u8> = Vec::new();
    for _ in 0..40 {
        let mut outer = vec![0x30, 0x81, u8::try_from(deep.len()).unwrap_or(0)];
        if deep.len() > 255 {
            break;
        }
        outer.extend_from_slice(&deep);
        deep = outer;
    }
    assert!(ber_to_der(&deep).is_err(), "depth");

    let Some((token, _)) = corpus_token() else {
        eprintln!("corpus not found; skipped");
        return;
    };
    // The outer ContentInfo's length in a five-octet long form, as the red team's token had it.
    assert_eq!(token[0], 0x30);
    let (n, body) = match token[1] {
        l if l < 0x80 => (usize::from(l), 2),
        l => {
            let k = usize::from(l & 0x7f);
            let n = token[2..2 + k]
                .iter()
                .fold(0usize, |n, b| n * 256 + usize::from(*b));
            (n, 2 + k)
        }
    };
    assert_eq!(body + n, token.len());
    let mut reframed = vec![0x30, 0x84];
    reframed.extend_from_slice(&u32::try_from(n).unwrap().to_be_bytes());
    reframed.extend_from_slice(&token[body..]);
    assert_ne!(reframed, token);
    assert_eq!(ber_to_der(&reframed).unwrap(), token);
    let a = parse(&token).unwrap();
    let b = parse(&reframed).unwrap();
    assert_eq!(a.signers[0].signed_attrs_der, b.signers[0].signed_attrs_der);
    assert_eq!(a.gen_time, b.gen_time);
}

/// Red team M, M03: tspclient-go verifies a SignerInfo of version 1 (issuerAndSerialNumber) only;
/// one naming the TSA by its subjectKeyIdentifier (version 3) is refused, and so is a version that
/// does not fit.
#[test]
fn only_a_version_1_signer_info_verifies() {
    let Some((token, root)) = corpus_token() else {
        eprintln!("corpus not found; skipped");
        return;
    };
    let parsed = parse(&token).unwrap();
    let anchors = vec![token_certificate(&root).unwrap()];
    let run = |signer: &SignerEntry| {
        let mut budget = Budget::new(8, 64);
        verify_signer(&parsed, signer, &anchors, &mut budget).map(|_| ())
    };
    let good = parsed.signers[0].clone();
    assert_eq!(good.version, 1);
    run(&good).unwrap();
    let ski = parsed.certs[0]
        .subject_key_identifier()
        .unwrap()
        .unwrap()
        .to_vec();
    let mut by_key = good.clone();
    by_key.version = 3;
    by_key.sid = SignerId::SubjectKeyId(ski);
    for signer in [
        by_key,
        SignerEntry {
            version: 3,
            ..good.clone()
        },
    ] {
        assert!(matches!(
            run(&signer),
            Err(TimestampError::SignerInfoVersion { version: 3 })
        ));
    }
    // SignedData must be of version 3 (tspclient-go: "unsupported signed data version").
    let at = token
        .windows(3)
        .position(|w| w == [0x02, 0x01, 0x03])
        .unwrap();
    let mut v1 = token.clone();
    v1[at + 2] = 1;
    let e = parse(&v1).err().unwrap();
    assert!(e.to_string().contains("unsupported version 1"), "{e}");
}

/// Red team O, O06: the signature covers the signed attributes as tspclient-go re-marshals them,
/// a DER SET OF in sorted order, whatever order the token lists them in.
#[test]
fn the_signed_attributes_are_verified_in_der_order() {
    let Some((token, _)) = corpus_token() else {
        eprintln!("corpus not found; skipped");
        return;
    };
    let parsed = parse(&token).unwrap();
    let sorted = parsed.signers[0].signed_attrs_der.clone().unwrap();
    // The token's own [0] IMPLICIT SET, as received (the corpus token is in DER order).
    let mut received = sorted.clone();
    received[0] = 0xA0;
    let at = token
        .windows(received.len())
        .position(|w| w == received.as_slice())
        .unwrap();
    let header = sorted.len() - parse_attributes_len(&sorted);
    let tlvs = split_tlvs(&sorted[header..], 16).map_err(|_| ()).unwrap();
    assert!(tlvs.len() >= 2);
    // The same attributes, last first: an order no DER encoder writes.
    let mut reordered: Vec<&[u8]> = tlvs.clone();
    reordered.rotate_right(1);
    assert_ne!(reordered, tlvs);
    let mut token2 = token.clone();
    token2[at + header..at + sorted.len()].copy_from_slice(&reordered.concat());
    let parsed2 = parse(&token2).unwrap();
    assert_eq!(parsed2.signers[0].signed_attrs_der.as_ref(), Some(&sorted));
}

/// The length of a DER value's contents, from its header (test helper).
fn parse_attributes_len(tlv: &[u8]) -> usize {
    match tlv[1] {
        l if l < 0x80 => usize::from(l),
        l => {
            let k = usize::from(l & 0x7f);
            tlv[2..2 + k]
                .iter()
                .fold(0usize, |n, b| n * 256 + usize::from(*b))
        }
    }
}
