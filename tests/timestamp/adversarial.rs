//! Adversarial tests: the GlobalSign token of the corpus, mutated in memory.

use super::common::*;
use airlock::notary::timestamp::{self, Limits, TimestampError, VerifiedTimestamp};

struct Fixture {
    token: Vec<u8>,
    /// GlobalSign Root R3 (the tspclient-go test root).
    r3: Vec<Vec<u8>>,
    /// GlobalSign Root R6 (notation-go's tsa:test-timestamp store).
    r6: Vec<Vec<u8>>,
    /// DigiCert TSA root (notation-go's tsa:test-mismatch store).
    digicert: Vec<Vec<u8>>,
}

fn fixture() -> Fixture {
    let root = corpus_root();
    let envelopes = root.join("envelopes");
    Fixture {
        token: read(&envelopes.join("tst.globalsign.valid/TimeStampToken.p7s")),
        r3: load_certs(&envelopes.join("tst.globalsign.valid/roots/GlobalSignRootCA.crt")),
        r6: load_store_dir(&envelopes.join("ngo-ts.jws.valid/truststore/x509/tsa")),
        digicert: load_store_dir(&envelopes.join("ngo-ts.cose.untrusted-tsa/truststore/x509/tsa")),
    }
}

const MSG: &[u8] = b"notation";

fn verify(token: &[u8], roots: &[Vec<u8>]) -> Result<VerifiedTimestamp, TimestampError> {
    timestamp::verify(token, MSG, roots, &Limits::default())
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn baseline_verifies_with_r3_and_r6() {
    let f = fixture();
    let via_r3 = verify(&f.token, &f.r3).unwrap();
    assert_eq!(via_r3.tsa_chain.len(), 4);
    // With Root R6 as the anchor the cross-certificate is not needed.
    let via_r6 = verify(&f.token, &f.r6).unwrap();
    assert_eq!(via_r6.tsa_chain.len(), 3);
    assert_eq!(via_r6.tsa_chain.last(), f.r6.first());
    assert_eq!(via_r3.gen_time, via_r6.gen_time);
    // Both roots in the store: the first anchor that completes a path wins, either is fine.
    let both: Vec<Vec<u8>> = f.r3.iter().chain(&f.r6).cloned().collect();
    assert!(verify(&f.token, &both).is_ok());
}

#[test]
fn message_imprint_over_other_data() {
    let f = fixture();
    for other in [&b"notatioN"[..], b"", b"invalid"] {
        let err = timestamp::verify(&f.token, other, &f.r3, &Limits::default()).unwrap_err();
        assert_eq!(err, TimestampError::MessageImprintMismatch);
        assert_eq!(
            err.reason(),
            airlock::notary::timestamp::TimestampReason::TstMessageImprint
        );
    }
}

#[test]
fn flipped_byte_in_tstinfo_breaks_message_digest() {
    let f = fixture();
    let tst = timestamp::parse(&f.token).unwrap().tst_info_der().to_vec();
    let start = find(&f.token, &tst);
    // The last TSTInfo byte is inside the `tsa` GeneralName: the structure stays valid.
    let mut t = f.token.clone();
    t[start + tst.len() - 1] ^= 0x01;
    let err = verify(&t, &f.r3).unwrap_err();
    assert_eq!(err, TimestampError::MessageDigestMismatch, "{err}");
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstSignature
    );
    // The serialNumber of the TSTInfo.
    let serial = timestamp::parse(&f.token).unwrap().serial_hex();
    let serial_pos = find(&t, &hex(&serial));
    let mut t = f.token.clone();
    t[serial_pos] ^= 0x01;
    assert_eq!(
        verify(&t, &f.r3).unwrap_err(),
        TimestampError::MessageDigestMismatch
    );
}

#[test]
fn flipped_byte_in_signature() {
    let f = fixture();
    let mut t = f.token.clone();
    let last = t.len() - 1; // the SignerInfo signature ends the token
    t[last] ^= 0x80;
    let err = verify(&t, &f.r3).unwrap_err();
    assert!(matches!(err, TimestampError::Signature(_)), "{err}");
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstSignature
    );
}

#[test]
fn flipped_byte_in_signed_attributes() {
    let f = fixture();
    // messageDigest value: signed, so the CMS signature no longer verifies.
    let md = hex("7CDFCB0F12BC0277B93329533BAA31B5BCEA80D36C263C29AF934978771D5A87");
    let mut t = f.token.clone();
    t[find(&f.token, &md) + 5] ^= 0x01;
    let err = verify(&t, &f.r3).unwrap_err();
    assert!(matches!(err, TimestampError::Signature(_)), "{err}");
    // ESSCertIDv2 certHash: the signing-certificate binding fails first.
    let cert_hash = hex("13D6E9C420FF6D4E2754728C68E77882656467DB9A190F816597F67FB6CCC6F9");
    let mut t = f.token.clone();
    t[find(&f.token, &cert_hash)] ^= 0x01;
    let err = verify(&t, &f.r3).unwrap_err();
    assert_eq!(err, TimestampError::SigningCertificateHashMismatch);
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstSigningCertificate
    );
    // The content-type attribute's value (id-ct-TSTInfo in the signed attributes, the second
    // occurrence of the OID in the token).
    let oid = hex("060B2A864886F70D0109100104");
    let first = find(&f.token, &oid);
    let second = first + 1 + find(&f.token[first + 1..], &oid);
    let mut t = f.token.clone();
    t[second + oid.len() - 1] ^= 0x02;
    let err = verify(&t, &f.r3).unwrap_err();
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstSignature,
        "{err}"
    );
}

#[test]
fn every_truncation_is_a_parse_error() {
    let f = fixture();
    for len in 0..f.token.len() {
        let err = verify(&f.token[..len], &f.r3).unwrap_err();
        assert_eq!(
            err.reason(),
            airlock::notary::timestamp::TimestampReason::TstParse,
            "truncated to {len}: {err}"
        );
    }
    let mut t = f.token.clone();
    t.push(0);
    assert_eq!(
        verify(&t, &f.r3).unwrap_err().reason(),
        airlock::notary::timestamp::TimestampReason::TstParse
    );
}

#[test]
fn single_bit_flips_never_change_what_is_accepted() {
    let f = fixture();
    let good = verify(&f.token, &f.r3).unwrap();
    // Byte ranges that the verdict depends on: the TSTInfo, every certificate of the
    // validated chain below the trust anchor (the anchor comes from the store), and the
    // SignerInfo signature (which ends the token; 384 bytes for the RSA-3072 TSA key).
    let tst = timestamp::parse(&f.token).unwrap().tst_info_der().to_vec();
    let mut covered = vec![(find(&f.token, &tst), tst.len())];
    for cert in &good.tsa_chain[..good.tsa_chain.len() - 1] {
        if let Some(pos) = f
            .token
            .windows(cert.len())
            .position(|w| w == cert.as_slice())
        {
            covered.push((pos, cert.len()));
        }
    }
    covered.push((f.token.len() - 384, 384));
    let mut accepted = 0;
    let mut codes = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..f.token.len() {
        let mut t = f.token.clone();
        t[i] ^= 0x01;
        match verify(&t, &f.r3) {
            // Only bytes nothing signs and nothing uses may change (SignedData version and
            // digestAlgorithms, the SignerInfo digestAlgorithm parameters, and the bag's copy
            // of Root R3, which the trust store supplies): tspclient-go ignores them too.
            Ok(ts) => {
                accepted += 1;
                assert_eq!(ts, good, "byte {i}");
                assert!(
                    !covered.iter().any(|(s, l)| (*s..s + l).contains(&i)),
                    "flip at {i} inside signed or used data was accepted"
                );
            }
            Err(e) => *codes.entry(e.code()).or_default() += 1,
        }
    }
    println!("bit flips: {accepted} accepted unchanged, rejected by category {codes:?}");
}

#[test]
fn trust_store_problems() {
    let f = fixture();
    assert_eq!(
        verify(&f.token, &[]).unwrap_err(),
        TimestampError::NoTrustAnchors
    );
    let err = verify(&f.token, &f.digicert).unwrap_err();
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstUntrusted,
        "{err}"
    );
    let err = verify(&f.token, &[b"not a certificate".to_vec()]).unwrap_err();
    assert_eq!(err, TimestampError::InvalidTrustAnchor { index: 0 });
    let parsed = timestamp::parse(&f.token).unwrap();
    let certs = parsed.certificates();
    // Bag order: TSA leaf, Timestamping CA G4, R6 cross-signed by R3, R3.
    let (leaf, g4) = (certs[0].to_vec(), certs[1].to_vec());
    // An intermediate or the leaf in the tsa store is not a root: the chain must end in a
    // self-signed root (notation-core-go ValidateTimestampingCertChain).
    for store in [vec![g4], vec![leaf]] {
        let err = verify(&f.token, &store).unwrap_err();
        assert_eq!(
            err.reason(),
            airlock::notary::timestamp::TimestampReason::TstCertInvalid,
            "{err}"
        );
    }
}

#[test]
fn limits_are_enforced() {
    let f = fixture();
    let limits = |edit: fn(&mut Limits)| {
        let mut l = Limits::default();
        edit(&mut l);
        l
    };
    let run = |l: &Limits, roots: &[Vec<u8>]| timestamp::verify(&f.token, MSG, roots, l);
    // Leaf->G4, G4->R6x, R6x->R3, R3 self-signed, CMS signature: 5 checks.
    let err = run(&limits(|l| l.max_signature_checks = 4), &f.r3).unwrap_err();
    assert_eq!(err, TimestampError::BudgetExceeded { limit: 4 });
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstUntrusted
    );
    assert!(run(&limits(|l| l.max_signature_checks = 5), &f.r3).is_ok());
    // The R3 path needs 4 certificates, the R6 path 3.
    let err = run(&limits(|l| l.max_chain_len = 3), &f.r3).unwrap_err();
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstUntrusted,
        "{err}"
    );
    assert!(run(&limits(|l| l.max_chain_len = 3), &f.r6).is_ok());
    let err = run(&limits(|l| l.max_certificates = 3), &f.r3).unwrap_err();
    assert_eq!(err, TimestampError::TooManyCertificates { limit: 3 });
    let err = run(&limits(|l| l.max_token_bytes = 100), &f.r3).unwrap_err();
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstParse
    );
    let err = run(&limits(|l| l.max_signer_infos = 0), &f.r3).unwrap_err();
    assert_eq!(
        err.reason(),
        airlock::notary::timestamp::TimestampReason::TstParse
    );
}

#[test]
fn garbage_inputs_do_not_panic() {
    let f = fixture();
    for input in [
        &[][..],
        &[0x30],
        &[0x30, 0x80, 0x00, 0x00],
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        &[0xff; 64],
    ] {
        assert_eq!(
            verify(input, &f.r3).unwrap_err().reason(),
            airlock::notary::timestamp::TimestampReason::TstParse
        );
    }
}

#[test]
fn chain_is_validated_at_gen_time() {
    // genTime is 20210917140910Z. Moving it (the token is then no longer authentic, but the
    // chain is validated before the CMS signature, as in tspclient-go) to a time outside the
    // TSA certificates' validity is reported as an invalid certificate.
    let f = fixture();
    let pos = find(&f.token, b"20210917140910Z");
    for (digit_offset, digit) in [(0, b'3'), (2, b'3'), (3, b'0')] {
        let mut t = f.token.clone();
        t[pos + digit_offset] = digit;
        let err = verify(&t, &f.r3).unwrap_err();
        assert_eq!(
            err.reason(),
            airlock::notary::timestamp::TimestampReason::TstCertInvalid,
            "{err}"
        );
        assert!(err.to_string().contains("genTime"), "{err}");
    }
}
