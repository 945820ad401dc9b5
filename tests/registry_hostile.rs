//! What a real registry cannot be made to do, from a small in-process HTTP server: serve wrong bytes
//! for a digest, an oversized manifest, a redirect loop, a stalled connection, a transient 503, and
//! the Referrers API (distribution 2.8 has none).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock::digest::Digest;
use airlock::layout::model::Descriptor;
use airlock::registry::{Options, Registry, RegistryError};

#[derive(Clone)]
enum Reply {
    Ok(&'static str, Vec<u8>, Option<String>),
    Status(u16),
    Redirect(String),
    Stall,
    /// 503 for the first N requests, then the inner reply.
    FlakyThen(usize, Box<Reply>),
    /// A blob whose first full response drops the connection after N bytes; `Range` requests
    /// are answered with 206 from the offset asked.
    DropsThenRanges(Vec<u8>, usize),
}

fn serve(routes: HashMap<String, Reply>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("127.0.0.1:{}", l.local_addr().unwrap().port());
    let hits = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let routes = routes.clone();
            let hits = hits.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .to_owned();
                let mut len = 0usize;
                let mut range: Option<usize> = None;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) <= 2 {
                        break;
                    }
                    let lower = h.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = lower.strip_prefix("range:") {
                        range = v
                            .trim()
                            .strip_prefix("bytes=")
                            .and_then(|x| x.split('-').next())
                            .and_then(|x| x.parse().ok());
                    }
                }
                let mut body = vec![0u8; len];
                let _ = r.read_exact(&mut body);
                let mut w = stream;
                let mut reply = routes.get(&path).cloned().unwrap_or(Reply::Status(404));
                if let Reply::FlakyThen(n, inner) = reply {
                    reply = if hits.fetch_add(1, Ordering::SeqCst) < n {
                        Reply::Status(503)
                    } else {
                        *inner
                    };
                }
                match reply {
                    Reply::Ok(ct, bytes, digest) => {
                        let dh = digest
                            .map(|d| format!("Docker-Content-Digest: {d}\r\n"))
                            .unwrap_or_default();
                        let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n{dh}Connection: close\r\n\r\n", bytes.len());
                        let _ = w.write_all(&bytes);
                    }
                    Reply::Status(code) => {
                        let _ = write!(
                            w,
                            "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                    }
                    Reply::Redirect(to) => {
                        let _ = write!(w, "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                    Reply::Stall => std::thread::sleep(Duration::from_secs(30)),
                    Reply::DropsThenRanges(bytes, cut) => match range {
                        // The first request (with or without `Range: bytes=0-`) is cut short.
                        None | Some(0) => {
                            let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", bytes.len());
                            let _ = w.write_all(&bytes[..cut]);
                            let _ = w.flush();
                            // Dropped mid-body.
                        }
                        Some(off) => {
                            let rest = &bytes[off.min(bytes.len())..];
                            let _ = write!(
                                w,
                                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {off}-{}/{}\r\nConnection: close\r\n\r\n",
                                rest.len(),
                                bytes.len() - 1,
                                bytes.len()
                            );
                            let _ = w.write_all(rest);
                        }
                    },
                    Reply::FlakyThen(..) => {}
                }
            });
        }
    });
    host
}

const MT: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest(tag: &str) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{MT}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[],"annotations":{{"t":"{tag}"}}}}"#,
        Digest::sha256(b"{}")
    )
    .into_bytes()
}

fn client(host: &str) -> Registry {
    Registry::new(Options {
        plain_http: vec![host.to_owned()],
        timeout: Some(Duration::from_secs(2)),
        retries: 2,
        ..Options::default()
    })
    .unwrap()
}

fn desc(digest: &str, size: u64) -> Descriptor {
    serde_json::from_value(serde_json::json!({"mediaType": "application/octet-stream", "digest": digest, "size": size})).unwrap()
}

#[test]
fn wrong_bytes_for_a_digest_are_refused() {
    let good = manifest("good");
    let evil = manifest("evil");
    let gd = Digest::sha256(&good).to_string();
    let blob = b"the real layer".to_vec();
    let bd = Digest::sha256(&blob).to_string();
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/".to_string(),
        Reply::Ok("application/json", b"{}".to_vec(), None),
    );
    // The tag serves other bytes while its digest header claims the good manifest.
    routes.insert(
        "/v2/app/manifests/lying".to_string(),
        Reply::Ok(MT, evil.clone(), Some(gd.clone())),
    );
    // By digest, other bytes.
    routes.insert(
        format!("/v2/app/manifests/{gd}"),
        Reply::Ok(MT, evil.clone(), Some(gd.clone())),
    );
    routes.insert(
        format!("/v2/app/blobs/{bd}"),
        Reply::Ok(
            "application/octet-stream",
            b"a forged layer".to_vec(),
            Some(bd.clone()),
        ),
    );
    let host = serve(routes);
    let c = client(&host);
    let r = Registry::parse(&format!("{host}/app:lying")).unwrap();
    if let Ok((d, bytes)) = c.resolve(&r) {
        // If the client trusted nothing but the bytes, the digest it reports is theirs.
        assert_eq!(d.digest, Digest::sha256(&bytes).to_string());
        assert_ne!(d.digest, gd, "the Docker-Content-Digest header was trusted");
    }
    let r = Registry::parse(&format!("{host}/app@{gd}")).unwrap();
    assert!(
        c.resolve(&r).is_err(),
        "bytes that do not hash to the requested digest were accepted"
    );
    let mut out = Vec::new();
    let e = c
        .blob(
            &Registry::parse(&format!("{host}/app")).unwrap(),
            &desc(&bd, blob.len() as u64),
            &mut out,
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Mismatch { .. } | RegistryError::Protocol { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn oversized_manifests_are_refused() {
    let mut big = b"{\"schemaVersion\":2,\"pad\":\"".to_vec();
    big.resize(5 << 20, b'a');
    big.extend_from_slice(b"\"}");
    let d = Digest::sha256(&big).to_string();
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/".to_string(),
        Reply::Ok("application/json", b"{}".to_vec(), None),
    );
    routes.insert(
        "/v2/app/manifests/big".to_string(),
        Reply::Ok(MT, big, Some(d)),
    );
    let host = serve(routes);
    let e = client(&host)
        .resolve(&Registry::parse(&format!("{host}/app:big")).unwrap())
        .unwrap_err();
    assert!(
        e.to_string().contains("exceeds") || e.to_string().to_lowercase().contains("large"),
        "{e}"
    );
}

#[test]
fn redirect_loops_and_stalled_connections_end_in_errors() {
    let bd = Digest::sha256(b"x").to_string();
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/".to_string(),
        Reply::Ok("application/json", b"{}".to_vec(), None),
    );
    routes.insert(
        format!("/v2/app/blobs/{bd}"),
        Reply::Redirect(format!("/v2/app/blobs/{bd}")),
    );
    routes.insert("/v2/app/manifests/stall".to_string(), Reply::Stall);
    let host = serve(routes);
    let c = client(&host);
    let start = Instant::now();
    let mut out = Vec::new();
    assert!(c
        .blob(
            &Registry::parse(&format!("{host}/app")).unwrap(),
            &desc(&bd, 1),
            &mut out
        )
        .is_err());
    assert!(c
        .resolve(&Registry::parse(&format!("{host}/app:stall")).unwrap())
        .is_err());
    assert!(
        start.elapsed() < Duration::from_secs(25),
        "a stalled registry hung the client"
    );
}

#[test]
fn transient_errors_are_retried_and_the_referrers_api_is_used() {
    let good = manifest("ok");
    let gd = Digest::sha256(&good).to_string();
    let sig = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": MT, "digest": format!("sha256:{}", "2".repeat(64)), "size": 123, "artifactType": "application/vnd.cncf.notary.signature"}
    ]});
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/".to_string(),
        Reply::Ok("application/json", b"{}".to_vec(), None),
    );
    routes.insert(
        "/v2/app/manifests/flaky".to_string(),
        Reply::FlakyThen(1, Box::new(Reply::Ok(MT, good.clone(), Some(gd.clone())))),
    );
    routes.insert(
        format!("/v2/app/referrers/{gd}"),
        Reply::Ok(
            "application/vnd.oci.image.index.v1+json",
            serde_json::to_vec(&sig).unwrap(),
            None,
        ),
    );
    let host = serve(routes);
    let c = client(&host);
    let (d, _) = c
        .resolve(&Registry::parse(&format!("{host}/app:flaky")).unwrap())
        .unwrap();
    assert_eq!(d.digest, gd);
    let refs = c
        .referrers(
            &Registry::parse(&format!("{host}/app")).unwrap(),
            &gd,
            Some("application/vnd.cncf.notary.signature"),
        )
        .unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(
        refs[0].artifact_type.as_deref(),
        Some("application/vnd.cncf.notary.signature")
    );
}

#[test]
fn an_interrupted_blob_is_resumed_with_range() {
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let bd = Digest::sha256(&blob).to_string();
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/".to_string(),
        Reply::Ok("application/json", b"{}".to_vec(), None),
    );
    routes.insert(
        format!("/v2/app/blobs/{bd}"),
        Reply::DropsThenRanges(blob.clone(), 100_000),
    );
    let host = serve(routes);
    let mut out = Vec::new();
    let n = client(&host)
        .blob(
            &Registry::parse(&format!("{host}/app")).unwrap(),
            &desc(&bd, blob.len() as u64),
            &mut out,
        )
        .unwrap();
    assert_eq!(n, blob.len() as u64);
    assert_eq!(out, blob);
}
