//! CRL capture at export time, against a small HTTP server on loopback: fetched, checked against
//! the issuer, current, carried; problems become warnings, never silently good.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use airlock::export::crl::{capture, distribution_points, HttpFetcher};
use der::Decode;
use rcgen::{
    BasicConstraints, CertificateRevocationListParams, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use x509_cert::Certificate;

use crate::pki;
use crate::pki::t0_days as at;
use crate::testkit::crl::T0;

/// Serves `routes` (path -> (status, body, chunked)); redirects with status 302 and body = location.
fn serve(routes: HashMap<String, (u16, Vec<u8>, bool)>) -> (u16, Arc<Mutex<Vec<String>>>) {
    serve_on(0, routes)
}

/// [`serve`] on `port` (0: any free port).
fn serve_on(
    port: u16,
    routes: HashMap<String, (u16, Vec<u8>, bool)>,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let mut h = String::new();
            while r.read_line(&mut h).unwrap() > 2 {
                if h.to_ascii_lowercase().starts_with("authorization") {
                    log.lock().unwrap().push("AUTHORIZATION SENT".into());
                }
                h.clear();
            }
            log.lock().unwrap().push(path.clone());
            let mut w = stream;
            match routes.get(&path) {
                Some((302, loc, _)) => {
                    let _ = write!(
                        w,
                        "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n",
                        String::from_utf8_lossy(loc)
                    );
                }
                Some((200, body, true)) => {
                    let _ = write!(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                    for c in body.chunks(100) {
                        let _ = write!(w, "{:x}\r\n", c.len());
                        let _ = w.write_all(c);
                        let _ = w.write_all(b"\r\n");
                    }
                    let _ = w.write_all(b"0\r\n\r\n");
                }
                Some((code, body, _)) => {
                    let _ = write!(
                        w,
                        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = w.write_all(body);
                }
                None => {
                    let _ = write!(w, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                }
            }
        }
    });
    (port, seen)
}

struct Ca {
    cert: Certificate,
    issuer: Issuer<'static, KeyPair>,
    key_der: Vec<u8>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let key_der = key.serialize_der();
    let mut p = pki::params(pki::cn(name), at(-100), at(100));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let c = p.self_signed(&key).unwrap();
    Ca {
        cert: Certificate::from_der(c.der()).unwrap(),
        issuer: Issuer::new(p, key),
        key_der,
    }
}

fn leaf(ca: &Ca, serial: u64, url: &str) -> Certificate {
    let key = KeyPair::generate().unwrap();
    let mut p = pki::params(pki::cn(&format!("leaf {serial}")), at(-10), at(10));
    p.serial_number = Some(SerialNumber::from(serial));
    p.crl_distribution_points = pki::crl_dps(&[url]);
    Certificate::from_der(p.signed_by(&key, &ca.issuer).unwrap().der()).unwrap()
}

fn crl(ca: &Ca, this: i64, next: i64) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: at(this),
        next_update: at(next),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.issuer)
    .unwrap()
    .der()
    .to_vec()
}

#[test]
fn crls_are_fetched_checked_and_carried() {
    let good = ca("good CA");
    let other = ca("other CA");
    let mut routes = HashMap::new();
    routes.insert("/good.crl".to_string(), (200, crl(&good, -1, 5), false));
    routes.insert("/chunked.crl".to_string(), (200, crl(&good, -1, 5), true));
    routes.insert("/moved.crl".to_string(), (302, Vec::new(), false));
    routes.insert("/stale.crl".to_string(), (200, crl(&good, -10, -2), false));
    routes.insert("/forged.crl".to_string(), (200, crl(&other, -1, 5), false));
    let (port, seen) = serve(routes.clone());
    let base = format!("http://127.0.0.1:{port}");
    // The redirect target is only known once the server runs; re-serve with it.
    routes.insert(
        "/moved.crl".to_string(),
        (302, format!("{base}/good.crl").into_bytes(), false),
    );
    let (port2, _) = serve(routes);
    let base2 = format!("http://127.0.0.1:{port2}");

    let chains = vec![
        vec![
            leaf(&good, 1, &format!("{base}/good.crl")),
            good.cert.clone(),
        ],
        vec![
            leaf(&good, 2, &format!("{base}/chunked.crl")),
            good.cert.clone(),
        ],
        vec![
            leaf(&good, 3, &format!("{base2}/moved.crl")),
            good.cert.clone(),
        ],
        vec![
            leaf(&good, 4, &format!("{base}/stale.crl")),
            good.cert.clone(),
        ],
        vec![
            leaf(&good, 5, &format!("{base}/forged.crl")),
            good.cert.clone(),
        ],
        vec![
            leaf(&good, 6, &format!("{base}/missing.crl")),
            good.cert.clone(),
        ],
    ];
    assert_eq!(
        distribution_points(&chains[0][0]),
        vec![format!("{base}/good.crl")]
    );
    let unbounded = (usize::MAX, usize::MAX);
    let got = capture(&chains, T0, &mut HttpFetcher::default(), unbounded);
    let urls: Vec<String> = got.crls.iter().map(|(_, u)| u.clone().unwrap()).collect();
    assert_eq!(
        urls,
        vec![
            format!("{base}/good.crl"),
            format!("{base}/chunked.crl"),
            format!("{base2}/moved.crl")
        ],
        "{:?}",
        got.warnings
    );
    assert_eq!(got.warnings.len(), 3, "{:?}", got.warnings);
    assert!(got.warnings.iter().any(|w| w.contains("not current")));
    assert!(got.warnings.iter().any(|w| w.contains("refused")));
    assert!(got.warnings.iter().any(|w| w.contains("404")));
    assert!(!seen
        .lock()
        .unwrap()
        .iter()
        .any(|s| s.contains("AUTHORIZATION")));
    // https URLs are not fetched.
    let https = vec![vec![
        leaf(&good, 7, "https://crl.example/x.crl"),
        good.cert.clone(),
    ]];
    assert!(capture(&https, T0, &mut HttpFetcher::default(), unbounded)
        .crls
        .is_empty());
    // Room for one CRL: the others are named and dropped as they arrive, not kept until the end
    // (red team H, H3: every fetched CRL, up to 64 MiB each, was held).
    let one = got.crls[0].0.der().len();
    let got = capture(&chains, T0, &mut HttpFetcher::default(), (usize::MAX, one));
    assert_eq!(got.crls.len(), 1, "{:?}", got.warnings);
    assert_eq!(
        got.warnings
            .iter()
            .filter(|w| w.contains("is not carried"))
            .count(),
        2,
        "{:?}",
        got.warnings
    );
}

/// A CA that names its delta CRL in its base CRL only (FreshestCRL in the CRL, none in the
/// certificate): export fetches the delta from there too, as notation does and as verify needs
/// (red team O, O03: the bundle was refused, "names a delta CRL ... none at hand").
#[test]
fn the_delta_a_base_crl_names_is_fetched_too() {
    let ca = ca("delta CA");
    let spec = || {
        crate::testkit::crl::CrlSpec::new(
            ca.cert.tbs_certificate.subject.clone(),
            ca.key_der.clone(),
        )
    };
    // The base CRL names the delta's URL, port included: take a free port, then serve on it.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let base = format!("http://127.0.0.1:{port}");
    let mut routes = HashMap::new();
    let base_crl = spec()
        .number(5)
        .freshest(&[&format!("{base}/delta.crl")])
        .der();
    let delta_crl = spec().number(6).delta_of(5).der();
    routes.insert("/base.crl".to_string(), (200, base_crl, false));
    routes.insert("/delta.crl".to_string(), (200, delta_crl, false));
    let (port2, seen) = serve_on(port, routes);
    assert_eq!(port2, port);
    let chains = vec![vec![
        leaf(&ca, 1, &format!("{base}/base.crl")),
        ca.cert.clone(),
    ]];
    let got = capture(
        &chains,
        T0,
        &mut HttpFetcher::default(),
        (usize::MAX, usize::MAX),
    );
    let urls: Vec<String> = got.crls.iter().map(|(_, u)| u.clone().unwrap()).collect();
    assert_eq!(
        urls,
        [format!("{base}/base.crl"), format!("{base}/delta.crl")],
        "{:?}",
        got.warnings
    );
    assert!(got.crls[1].0.is_delta());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

/// Red team P, P01 and P02: a hostile signature captured first, whose CA's CRL names the trusted
/// CA's delta location (and thousands of others), neither keeps the trusted CA's delta from being
/// fetched for it nor makes the export follow every location.
#[test]
fn a_hostile_crl_naming_other_locations_takes_nothing_from_the_trusted_chain() {
    let good = ca("good CA");
    let evil = ca("evil CA");
    let spec = |c: &Ca| {
        crate::testkit::crl::CrlSpec::new(c.cert.tbs_certificate.subject.clone(), c.key_der.clone())
    };
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let base = format!("http://127.0.0.1:{port}");
    let delta_url = format!("{base}/delta.crl");
    let mut many: Vec<String> = vec![delta_url.clone()];
    many.extend((0..500).map(|i| format!("{base}/x{i}.crl")));
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut routes = HashMap::new();
    routes.insert(
        "/evil.crl".to_string(),
        (200, spec(&evil).number(5).freshest(&many).der(), false),
    );
    routes.insert(
        "/base.crl".to_string(),
        (
            200,
            spec(&good).number(5).freshest(&[&delta_url]).der(),
            false,
        ),
    );
    routes.insert(
        "/delta.crl".to_string(),
        (200, spec(&good).number(6).delta_of(5).der(), false),
    );
    let (_, seen) = serve_on(port, routes);
    let chains = vec![
        vec![
            leaf(&evil, 1, &format!("{base}/evil.crl")),
            evil.cert.clone(),
        ],
        vec![
            leaf(&good, 2, &format!("{base}/base.crl")),
            good.cert.clone(),
        ],
    ];
    let got = capture(
        &chains,
        T0,
        &mut HttpFetcher::default(),
        (usize::MAX, usize::MAX),
    );
    let carried: Vec<(String, bool)> = got
        .crls
        .iter()
        .map(|(c, u)| (u.clone().unwrap(), c.is_delta()))
        .collect();
    assert!(
        carried.contains(&(delta_url.clone(), true)),
        "{carried:?} {:?}",
        got.warnings
    );
    // The evil CRL's 501 locations: the first few followed, not all.
    let fetched = seen.lock().unwrap().len();
    assert!(fetched <= 2 + 4 + 1, "{fetched} fetches");
}

/// A distribution point that trickles one byte every 300 ms of a "1 MB" CRL: the fetch ends at
/// its deadline with a warning, never waiting for the rest; once the fetches' shared budget is
/// spent, the next fails at once (red team E, E1: the export waited days).
#[test]
fn a_trickling_distribution_point_meets_the_fetch_deadline_and_the_budget() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
                for _ in 0..1000 {
                    if c.write_all(b"0").is_err() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
            });
        }
    });
    let mut f = HttpFetcher {
        timeout: std::time::Duration::from_secs(5),
        per_fetch: std::time::Duration::from_secs(2),
        budget: std::time::Duration::from_secs(3),
    };
    use airlock::export::crl::CrlFetcher as _;
    let url = format!("http://127.0.0.1:{port}/slow.crl");
    let e = f.get(&url).unwrap_err();
    assert!(e.contains("deadline"), "{e}");
    // About 2 s spent: 1 s of budget left, the next fetch gets that much.
    let e = f.get(&url).unwrap_err();
    assert!(e.contains("deadline"), "{e}");
    let e = f.get(&url).unwrap_err();
    assert!(e.contains("used up their time"), "{e}");
}
