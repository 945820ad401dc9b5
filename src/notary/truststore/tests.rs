//! Unit tests of trust store loading: files, names, limits, and the certificate rules per store type.

use std::path::Path;

use der::{Decode, Encode};
use tempfile::TempDir;

use super::*;

const ROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIB0TCCAXagAwIBAgIUXzfCjqohTb1N7nV50EuLefG33AEwCgYIKoZIzj0EAwIw\n\
RTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxEjAQBgNVBAMMCVRlc3QgUm9vdDAgFw0yNjExMjQyMDAzMTVaGA8yMTI2MTAz\n\
MTIwMDMxNVowRTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxB\n\
aXJsb2NrIFRlc3QxEjAQBgNVBAMMCVRlc3QgUm9vdDBZMBMGByqGSM49AgEGCCqG\n\
SM49AwEHA0IABKl8eXYf8FpkMDe7asXqvr7PNQlESJc0e84dFqpNUbUZ74yudN58\n\
G6ApDNNKcwgswG35itqIJmqUTb/CP02XDi6jQjBAMA8GA1UdEwEB/wQFMAMBAf8w\n\
DgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQWBBSCxQzNg+HJntLyzliNXBMePIZ8WjAK\n\
BggqhkjOPQQDAgNJADBGAiEA0CF2G8Zat3u2dKzCviLskCYa0MUIHt6zNcqFuiQb\n\
Tk8CIQCTuY7lGvLsLTI1AKhsr2GjjUS78UzJoztUB68G3eUkDg==\n\
-----END CERTIFICATE-----\n\
";
const LEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBtzCCAV2gAwIBAgIBAjAKBggqhkjOPQQDAjBFMQswCQYDVQQGEwJVUzELMAkG\n\
A1UECAwCV0ExFTATBgNVBAoMDEFpcmxvY2sgVGVzdDESMBAGA1UEAwwJVGVzdCBS\n\
b290MCAXDTI2MTEyNDIwMDMxNVoYDzIxMjYxMDMxMjAwMzE1WjBFMQswCQYDVQQG\n\
EwJVUzELMAkGA1UECAwCV0ExFTATBgNVBAoMDEFpcmxvY2sgVGVzdDESMBAGA1UE\n\
AwwJVGVzdCBMZWFmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqXx5dh/wWmQw\n\
N7tqxeq+vs81CURIlzR7zh0Wqk1RtRnvjK503nwboCkM00pzCCzAbfmK2ogmapRN\n\
v8I/TZcOLqM8MDowCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCB4AwHQYDVR0OBBYE\n\
FILFDM2D4cme0vLOWI1cEx48hnxaMAoGCCqGSM49BAMCA0gAMEUCICdSmGcfIneq\n\
iK1nJwEjxKT5JD+nRKuv77l9C/mVT8WAAiEA/Y+s/owbstV54g4Yy3xflSPsY3G3\n\
hbja9JXAnQh362Q=\n\
-----END CERTIFICATE-----\n\
";
const SELFLEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBwDCCAWWgAwIBAgIUD24TwxS28iYKjm7nWdZq2sjwguQwCgYIKoZIzj0EAwIw\n\
RTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxEjAQBgNVBAMMCVNlbGYgTGVhZjAgFw0yNjExMjQyMDAzMTVaGA8yMTI2MTAz\n\
MTIwMDMxNVowRTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxB\n\
aXJsb2NrIFRlc3QxEjAQBgNVBAMMCVNlbGYgTGVhZjBZMBMGByqGSM49AgEGCCqG\n\
SM49AwEHA0IABKl8eXYf8FpkMDe7asXqvr7PNQlESJc0e84dFqpNUbUZ74yudN58\n\
G6ApDNNKcwgswG35itqIJmqUTb/CP02XDi6jMTAvMA4GA1UdDwEB/wQEAwIHgDAd\n\
BgNVHQ4EFgQUgsUMzYPhyZ7S8s5YjVwTHjyGfFowCgYIKoZIzj0EAwIDSQAwRgIh\n\
ANpXt8ggo/J2suYlEDEhi8LV/Ijeiu6+jwBnj9G7jxL4AiEA+KmQBJ6vIvr2DkbG\n\
IgYiCwW6+qYo8L8JlJzW+hNA13I=\n\
-----END CERTIFICATE-----\n\
";
const CANO_KU: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBzzCCAXSgAwIBAgIUYc4E1k59h1r8+hgII6exK4CgzF4wCgYIKoZIzj0EAwIw\n\
RDELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxETAPBgNVBAMMCENBIE5vIEtVMCAXDTI2MTEyNDIwMDMxNVoYDzIxMjYxMDMx\n\
MjAwMzE1WjBEMQswCQYDVQQGEwJVUzELMAkGA1UECAwCV0ExFTATBgNVBAoMDEFp\n\
cmxvY2sgVGVzdDERMA8GA1UEAwwIQ0EgTm8gS1UwWTATBgcqhkjOPQIBBggqhkjO\n\
PQMBBwNCAASpfHl2H/BaZDA3u2rF6r6+zzUJREiXNHvOHRaqTVG1Ge+MrnTefBug\n\
KQzTSnMILMBt+YraiCZqlE2/wj9Nlw4uo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4G\n\
A1UdDwEB/wQEAwIHgDAdBgNVHQ4EFgQUgsUMzYPhyZ7S8s5YjVwTHjyGfFowCgYI\n\
KoZIzj0EAwIDSQAwRgIhAN4l1c/w0rsLdHnLfuRy+h9JS9av17XPDsa/Brbl1jqK\n\
AiEA/FO3UxBU1tRNQZL10BYcwE3WavjOpNHIohARfkdcIXA=\n\
-----END CERTIFICATE-----\n\
";
const NOTCA: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBxzCCAW2gAwIBAgIUeawIbyVBpJfh3hVZNcA1ZwAcEhYwCgYIKoZIzj0EAwIw\n\
QjELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxDzANBgNVBAMMBk5vdCBDQTAgFw0yNjExMjQyMDAzMTVaGA8yMTI2MTAzMTIw\n\
MDMxNVowQjELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJs\n\
b2NrIFRlc3QxDzANBgNVBAMMBk5vdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n\
A0IABKl8eXYf8FpkMDe7asXqvr7PNQlESJc0e84dFqpNUbUZ74yudN58G6ApDNNK\n\
cwgswG35itqIJmqUTb/CP02XDi6jPzA9MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/\n\
BAQDAgIEMB0GA1UdDgQWBBSCxQzNg+HJntLyzliNXBMePIZ8WjAKBggqhkjOPQQD\n\
AgNIADBFAiEApTldTC04Dyjsuety6IqYNoPD9aBKBdKoj1V3AjpU/hsCIFVR1ETQ\n\
SKyqaonF2p+LMfiBkNuaXtmZjBLuFgSLHA5F\n\
-----END CERTIFICATE-----\n\
";
const V1: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBdDCCARoCAQcwCgYIKoZIzj0EAwIwRTELMAkGA1UEBhMCVVMxCzAJBgNVBAgM\n\
AldBMRUwEwYDVQQKDAxBaXJsb2NrIFRlc3QxEjAQBgNVBAMMCVRlc3QgTGVhZjAg\n\
Fw0yNjExMjQyMDAzMTVaGA8yMTI2MTAzMTIwMDMxNVowRTELMAkGA1UEBhMCVVMx\n\
CzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRlc3QxEjAQBgNVBAMMCVRl\n\
c3QgTGVhZjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKl8eXYf8FpkMDe7asXq\n\
vr7PNQlESJc0e84dFqpNUbUZ74yudN58G6ApDNNKcwgswG35itqIJmqUTb/CP02X\n\
Di4wCgYIKoZIzj0EAwIDSAAwRQIgTB31Oyur3WV+G6Hlv4/eMr+zjr4B+GR03xVy\n\
D2x78aACIQCx6mMoPCHhdXhziLtkZ4PHvl3rtzbmCgWWyR7Mwm5xXQ==\n\
-----END CERTIFICATE-----\n\
";

fn der_of(pem: &str) -> Vec<u8> {
    let mut it = <(SectionKind, Vec<u8>)>::pem_slice_iter(pem.as_bytes());
    it.next().unwrap().unwrap().1
}

/// A trust store root with `x509/<kind>/<name>/` created; returns (root, store dir).
fn store(kind: StoreType, name: &str) -> (TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("x509").join(kind.as_str()).join(name);
    fs::create_dir_all(&dir).unwrap();
    (root, dir)
}

fn write(dir: &Path, file: &str, data: impl AsRef<[u8]>) {
    fs::write(dir.join(file), data).unwrap();
}

fn load_err(root: &TempDir, kind: StoreType, name: &str) -> TrustStoreError {
    match load(root.path(), kind, name) {
        Ok(certs) => panic!("expected an error, loaded {} certificates", certs.len()),
        Err(e) => e,
    }
}

#[test]
fn store_types() {
    for t in StoreType::ALL {
        assert_eq!(t.as_str().parse::<StoreType>().unwrap(), t);
        assert_eq!(t.to_string(), t.as_str());
    }
    for bad in ["CA", "signingauthority", "", "tsa ", "x509"] {
        let e = bad.parse::<StoreType>().unwrap_err();
        assert!(matches!(e, TrustStoreError::UnknownType { .. }), "{bad}");
        assert_eq!(
            e.reason(),
            crate::notary::truststore::TrustStoreReason::TruststoreInvalid
        );
    }
}

#[test]
fn store_names() {
    for ok in ["e2e", "valid-trust-store", "a.b_c-D9", "..a", "a.."] {
        assert!(is_valid_store_name(ok), "{ok}");
    }
    for bad in ["", ".", "..", "a/b", "../x", "a b", "a:b", "ä", "a\\b"] {
        assert!(!is_valid_store_name(bad), "{bad}");
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_err(&root, StoreType::Ca, bad),
            TrustStoreError::InvalidName { .. }
        ));
    }
}

#[test]
fn loads_pem_der_and_multi_cert_files_in_name_order() {
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "b-root.pem", ROOT);
    write(&dir, "a-self.crt", SELFLEAF.replace('\n', "\r\n"));
    let mut two = der_of(V1);
    two.extend(der_of(ROOT));
    write(&dir, "c-two.cer", &two);
    write(
        &dir,
        "d-bundle",
        format!("junk before\n{NOTCA}between\n{CANO_KU}trailer"),
    );
    let certs = load(root.path(), StoreType::Ca, "s").unwrap();
    let got: Vec<(Vec<u8>, String)> = certs
        .iter()
        .map(|c| {
            (
                c.der.clone(),
                c.file.file_name().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    let want = vec![
        (der_of(SELFLEAF), "a-self.crt".to_owned()),
        (der_of(ROOT), "b-root.pem".to_owned()),
        (der_of(V1), "c-two.cer".to_owned()),
        (der_of(ROOT), "c-two.cer".to_owned()),
        (der_of(NOTCA), "d-bundle".to_owned()),
        (der_of(CANO_KU), "d-bundle".to_owned()),
    ];
    assert_eq!(got, want);
    assert!(certs.iter().all(|c| c.certificate().is_ok()));
    assert_eq!(certs[1].file, dir.join("b-root.pem"));
}

#[test]
fn missing_store() {
    let (root, _) = store(StoreType::Ca, "present");
    let e = load_err(&root, StoreType::Ca, "absent");
    assert!(matches!(
        e,
        TrustStoreError::Missing {
            kind: StoreType::Ca,
            ..
        }
    ));
    assert_eq!(
        e.reason(),
        crate::notary::truststore::TrustStoreReason::TruststoreMissing
    );
    assert!(e.to_string().contains("\"absent\""));
    // A type directory that does not exist at all.
    let e = load_err(&root, StoreType::Tsa, "present");
    assert_eq!(
        e.reason(),
        crate::notary::truststore::TrustStoreReason::TruststoreMissing
    );
}

#[test]
fn store_must_be_a_real_directory() {
    let root = tempfile::tempdir().unwrap();
    let ca = root.path().join("x509").join("ca");
    fs::create_dir_all(&ca).unwrap();
    fs::write(ca.join("file"), ROOT).unwrap();
    let e = load_err(&root, StoreType::Ca, "file");
    assert!(matches!(e, TrustStoreError::NotADirectory { .. }));
    assert_eq!(
        e.reason(),
        crate::notary::truststore::TrustStoreReason::TruststoreInvalid
    );
}

#[cfg(unix)]
#[test]
fn symlinks_rejected() {
    let (root, dir) = store(StoreType::Ca, "real");
    write(&dir, "root.pem", ROOT);
    std::os::unix::fs::symlink(&dir, dir.with_file_name("link")).unwrap();
    assert!(matches!(
        load_err(&root, StoreType::Ca, "link"),
        TrustStoreError::NotADirectory { .. }
    ));
    std::os::unix::fs::symlink(dir.join("root.pem"), dir.join("z-link.pem")).unwrap();
    assert!(matches!(
        load_err(&root, StoreType::Ca, "real"),
        TrustStoreError::NotRegularFile { path } if path.ends_with("z-link.pem")
    ));
}

#[test]
fn sub_directories_rejected() {
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "root.pem", ROOT);
    fs::create_dir(dir.join("sub")).unwrap();
    write(&dir.join("sub"), "x.pem", ROOT);
    let e = load_err(&root, StoreType::Ca, "s");
    assert!(matches!(e, TrustStoreError::NotRegularFile { .. }));
    assert_eq!(
        e.reason(),
        crate::notary::truststore::TrustStoreReason::TruststoreInvalid
    );
}

#[test]
fn files_that_are_not_certificates() {
    let cases: [(&str, Vec<u8>); 9] = [
        ("text", b"invalid\n".to_vec()),
        (
            "key",
            format!("{ROOT}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .into_bytes(),
        ),
        (
            "unknown-label",
            format!("{ROOT}-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n").into_bytes(),
        ),
        (
            "no-end",
            ROOT.replace("-----END CERTIFICATE-----\n", "").into_bytes(),
        ),
        (
            "bad-base64",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
                .as_bytes()
                .to_vec(),
        ),
        (
            "not-a-cert-inside",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                .as_bytes()
                .to_vec(),
        ),
        ("der-trailing", [der_of(ROOT), vec![0x30]].concat()),
        ("der-garbage", vec![0x30, 0x03, 0x02, 0x01, 0x00]),
        ("truncated-der", der_of(ROOT)[..100].to_vec()),
    ];
    for (name, data) in cases {
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "a.pem", ROOT);
        write(&dir, name, data);
        let e = load_err(&root, StoreType::Ca, "s");
        assert!(
            matches!(e, TrustStoreError::NotCertificate { .. }),
            "{name}: {e:?}"
        );
        assert_eq!(
            e.reason(),
            crate::notary::truststore::TrustStoreReason::TruststoreInvalid
        );
    }
}

#[test]
fn empty_files_and_stores() {
    let (root, dir) = store(StoreType::Ca, "s");
    let e = load_err(&root, StoreType::Ca, "s");
    assert!(matches!(e, TrustStoreError::Empty { .. }), "{e:?}");
    assert_eq!(
        e.reason(),
        crate::notary::truststore::TrustStoreReason::TruststoreInvalid
    );
    for data in ["", "  \n", "no pem here"] {
        write(&dir, "empty.pem", data);
        let e = load_err(&root, StoreType::Ca, "s");
        assert!(
            matches!(
                e,
                TrustStoreError::NoCertificateInFile { .. }
                    | TrustStoreError::NotCertificate { .. }
            ),
            "{data:?}: {e:?}"
        );
        assert_eq!(
            e.reason(),
            crate::notary::truststore::TrustStoreReason::TruststoreInvalid
        );
    }
    write(&dir, "empty.pem", "");
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::NoCertificateInFile { .. }
    ));
}

#[test]
fn leaf_issued_by_another_is_rejected() {
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "root.pem", ROOT);
    write(&dir, "leaf.pem", LEAF);
    let e = load_err(&root, StoreType::Ca, "s");
    assert!(
        matches!(&e, TrustStoreError::NotCaOrSelfSigned { subject, .. } if subject.contains("Test Leaf")),
        "{e:?}"
    );
    assert_eq!(
        e.reason(),
        crate::notary::truststore::TrustStoreReason::TruststoreInvalid
    );
    // notation's "root and leaf in one file" case.
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "chain.pem", format!("{ROOT}{LEAF}"));
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::NotCaOrSelfSigned { .. }
    ));
}

#[test]
fn ca_and_signing_authority_accept_cas_and_self_signed_leaves() {
    for kind in [StoreType::Ca, StoreType::SigningAuthority] {
        let (root, dir) = store(kind, "s");
        for (file, pem) in [
            ("1", ROOT),
            ("2", SELFLEAF),
            ("3", CANO_KU),
            ("4", NOTCA),
            ("5", V1),
        ] {
            write(&dir, file, pem);
        }
        assert_eq!(load(root.path(), kind, "s").unwrap().len(), 5);
    }
}

#[test]
fn tsa_store_requires_root_cas() {
    let (root, dir) = store(StoreType::Tsa, "t");
    write(&dir, "root.pem", ROOT);
    write(&dir, "v1.pem", V1);
    assert_eq!(load(root.path(), StoreType::Tsa, "t").unwrap().len(), 2);
    for (pem, why) in [
        (SELFLEAF, "basicConstraints extension"),
        (NOTCA, "does not assert cA"),
        (CANO_KU, "keyCertSign"),
    ] {
        let (root, dir) = store(StoreType::Tsa, "t");
        write(&dir, "x.pem", pem);
        let e = load_err(&root, StoreType::Tsa, "t");
        assert!(
            matches!(&e, TrustStoreError::NotRootCa { reason, .. } if reason.contains(why)),
            "{why}: {e:?}"
        );
        assert_eq!(
            e.reason(),
            crate::notary::truststore::TrustStoreReason::TruststoreInvalid
        );
    }
    let (root, dir) = store(StoreType::Tsa, "t");
    write(&dir, "leaf.pem", LEAF);
    assert!(matches!(
        load_err(&root, StoreType::Tsa, "t"),
        TrustStoreError::NotCaOrSelfSigned { .. }
    ));
}

#[test]
fn self_signature_hook() {
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "root.pem", ROOT);
    let never = |_: &Certificate| false;
    // A CA needs no self-signature in a ca store ...
    assert_eq!(
        load_with(root.path(), StoreType::Ca, "s", &never)
            .unwrap()
            .len(),
        1
    );
    // ... but a non-CA does ...
    write(&dir, "self.pem", SELFLEAF);
    assert!(matches!(
        load_with(root.path(), StoreType::Ca, "s", &never),
        Err(TrustStoreError::NotCaOrSelfSigned { .. })
    ));
    let always = |_: &Certificate| true;
    assert_eq!(
        load_with(root.path(), StoreType::Ca, "s", &always)
            .unwrap()
            .len(),
        2
    );
    // ... and a tsa root always does.
    let (root, dir) = store(StoreType::Tsa, "t");
    write(&dir, "root.pem", ROOT);
    assert!(matches!(
        load_with(root.path(), StoreType::Tsa, "t", &never),
        Err(TrustStoreError::NotRootCa {
            reason: "it is not self-signed",
            ..
        })
    ));
    let seen = std::cell::Cell::new(0);
    let counting = |_: &Certificate| {
        seen.set(seen.get() + 1);
        true
    };
    load_with(root.path(), StoreType::Tsa, "t", &counting).unwrap();
    assert_eq!(seen.get(), 1);
}

/// `load` decided "self-signed" by subject == issuer while production loading verified the
/// signature; SPEC-NOTES erratum 12 (notation `ValidateCertificates` -> `CheckSignature`)
/// decides: the signature.
#[test]
fn load_checks_self_signatures() {
    use crate::notary::envelope::test_support::{leaf_exts, mint, p256, p384, CertSpec, LEAF};
    // Subject == issuer, but signed by another key: not self-signed.
    let forged = mint(&CertSpec::new(LEAF, LEAF, p256(), p384(), leaf_exts()));
    let genuine = mint(&CertSpec::new(LEAF, LEAF, p256(), p256(), leaf_exts()));
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "forged.der", &forged);
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::NotCaOrSelfSigned { .. }
    ));
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "genuine.der", &genuine);
    assert_eq!(load(root.path(), StoreType::Ca, "s").unwrap().len(), 1);
}

#[test]
fn duplicate_extensions_rejected() {
    let mut cert = Certificate::from_der(&der_of(ROOT)).unwrap();
    let exts = cert.tbs_certificate.extensions.as_mut().unwrap();
    let first = exts[0].clone();
    exts.push(first);
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "dup.der", cert.to_der().unwrap());
    let e = load_err(&root, StoreType::Ca, "s");
    assert!(
        matches!(&e, TrustStoreError::NotCertificate { reason, .. } if reason.contains("duplicate extension")),
        "{e:?}"
    );
}

#[test]
fn limits() {
    // A file over the size limit.
    let (root, dir) = store(StoreType::Ca, "s");
    let mut big = ROOT.as_bytes().to_vec();
    big.resize(usize::try_from(MAX_FILE_BYTES).unwrap() + 1, b'\n');
    write(&dir, "big.pem", &big);
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::FileTooLarge { .. }
    ));

    // More certificates than the limit, across two files.
    let (root, dir) = store(StoreType::Ca, "s");
    let half = ROOT.repeat(MAX_CERTS / 2 + 1);
    write(&dir, "a.pem", &half);
    write(&dir, "b.pem", &half);
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::TooManyCerts { .. }
    ));
    // ... and in one file.
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "a.pem", ROOT.repeat(MAX_CERTS + 1));
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::TooManyCerts { .. }
    ));
    // Exactly the limit is fine.
    let (root, dir) = store(StoreType::Ca, "s");
    write(&dir, "a.pem", ROOT.repeat(MAX_CERTS));
    assert_eq!(
        load(root.path(), StoreType::Ca, "s").unwrap().len(),
        MAX_CERTS
    );

    // More directory entries than the limit.
    let (root, dir) = store(StoreType::Ca, "s");
    for i in 0..=MAX_ENTRIES {
        write(&dir, &format!("{i:05}.pem"), ROOT);
    }
    assert!(matches!(
        load_err(&root, StoreType::Ca, "s"),
        TrustStoreError::TooManyEntries { .. }
    ));
}
