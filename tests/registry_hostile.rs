//! The registry client against a hostile or broken server (an in-process HTTP/1.1 server,
//! [`Hostile`]): what a real registry cannot be made to do. Wrong bytes for a digest, lying
//! headers, oversized manifests, redirect loops, stalled connections, 503s, interrupted blobs,
//! the Referrers API answering 200, the bearer-token handshake, credentials across redirects,
//! and the deadlines: stalled and trickling blobs, manifests and tokens, upload answers, the
//! command-line options; also the error text of a refused push and of an OS error.

use std::time::{Duration, Instant};

use airlock::digest::Digest;
use airlock::layout::model::{self, Descriptor};
use airlock::registry::{Reference, Registry, RegistryError};

use crate::registry_util::*;

const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn client(h: &Hostile) -> Registry {
    client_for(&h.host, None, Duration::from_secs(5), 2).0
}

fn repo(h: &Hostile) -> Reference {
    Reference::parse(&format!("{}/app:1", h.host)).unwrap()
}

fn blob_desc(data: &[u8]) -> Descriptor {
    serde_json::from_value(serde_json::json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar",
        "digest": Digest::sha256(data).to_string(),
        "size": data.len(),
    }))
    .unwrap()
}

/// Deterministic incompressible bytes.
fn data(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut airlock::fixture::Noise::new(9, n as u64), &mut out).unwrap();
    out
}

fn manifest_bytes() -> Vec<u8> {
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.to_vec()
}

#[test]
fn wrong_bytes_for_a_digest_are_refused_whatever_the_headers_say() {
    let good = manifest_bytes();
    let want = Digest::sha256(&good);
    let mut evil = good.clone();
    evil.extend_from_slice(b" ");
    let announced = want.to_string();
    let h = Hostile::start(move |_, _| {
        // The header claims the digest asked for; the bytes are something else.
        Reply::with(
            200,
            &[
                ("Content-Type", model::OCI_MANIFEST),
                ("Docker-Content-Digest", &announced),
            ],
            evil.clone(),
        )
    });
    let c = client(&h);
    let e = c.manifest(&repo(&h), &want).unwrap_err();
    assert!(
        matches!(&e, RegistryError::DigestMismatch { expected, .. } if *expected == want.to_string()),
        "{e}"
    );
    assert_eq!(h.seen().len(), 1, "a mismatch is not retried");

    // By tag: a header that disagrees with the bytes fails the resolve.
    let e = c.resolve(&repo(&h)).unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
}

#[test]
fn a_tag_resolves_to_the_digest_of_the_bytes_not_of_the_header() {
    let good = manifest_bytes();
    let h = Hostile::start(move |req, _| {
        assert!(req.path.ends_with("/manifests/1"), "{}", req.path);
        let accept = req.header("accept").unwrap_or_default().to_owned();
        for mt in airlock::registry::ACCEPT {
            assert!(accept.contains(mt), "Accept lacks {mt}: {accept}");
        }
        Reply::with(200, &[("Content-Type", model::OCI_MANIFEST)], good.clone())
    });
    let (desc, bytes) = client(&h).resolve(&repo(&h)).unwrap();
    assert_eq!(bytes, manifest_bytes());
    assert_eq!(desc.digest, Digest::sha256(&bytes).to_string());
    assert_eq!(desc.media_type(), model::OCI_MANIFEST);
}

#[test]
fn blobs_with_wrong_bytes_sizes_or_announced_digests_are_refused() {
    let body = data(100_000);
    let desc = blob_desc(&body);
    let mut flipped = body.clone();
    flipped[50_000] ^= 1;
    let longer = [&body[..], b"x"].concat();
    let other = Digest::sha256(b"other").to_string();
    let h = Hostile::start(move |req, _| {
        if req.path.contains("flipped") {
            Reply::ok(flipped.clone())
        } else if req.path.contains("longer") {
            Reply::ok(longer.clone())
        } else {
            Reply::with(200, &[("Docker-Content-Digest", &other)], body.clone())
        }
    });
    let c = client(&h);
    let at = |name: &str| Reference::parse(&format!("{}/{name}:1", h.host)).unwrap();

    let mut sink = Vec::new();
    let e = c.blob_to(&at("flipped"), &desc, &mut sink).unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");

    let mut sink = Vec::new();
    let e = c.blob_to(&at("longer"), &desc, &mut sink).unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::SizeMismatch {
                expected: 100_000,
                actual: 100_001,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        sink.is_empty(),
        "refused from Content-Length before any byte"
    );

    let mut sink = Vec::new();
    let e = c.blob_to(&at("announced"), &desc, &mut sink).unwrap_err();
    assert!(
        matches!(&e, RegistryError::Protocol { reason, .. } if reason.contains("announces")),
        "{e}"
    );
    assert!(sink.is_empty());
    assert_eq!(h.seen().len(), 3, "none of these is retried");

    // Unhashed (the caller hashes, as export does): the size bound and headers still hold.
    let mut sink = Vec::new();
    assert_eq!(
        c.blob_to_unhashed(&at("flipped"), &desc, &mut sink)
            .unwrap(),
        100_000
    );
    assert_ne!(Digest::sha256(&sink), Digest::parse(&desc.digest).unwrap());
    let e = c
        .blob_to_unhashed(&at("longer"), &desc, &mut Vec::new())
        .unwrap_err();
    assert!(matches!(e, RegistryError::SizeMismatch { .. }), "{e}");
}

/// A manifest without `mediaType` is walked as what it is, not as what the registry's
/// `Content-Type` calls it: served as an index, an image manifest is refused (red team H, H2:
/// export skipped its config and layers and wrote a bundle its own verify refused).
#[test]
fn a_manifest_served_as_another_kind_is_refused() {
    let mut doc: serde_json::Value = serde_json::from_slice(&manifest_bytes()).unwrap();
    doc.as_object_mut().unwrap().remove("mediaType");
    let bytes = serde_json::to_vec(&doc).unwrap();
    let d = Digest::sha256(&bytes);
    for (served, ok) in [(model::OCI_INDEX, false), (model::OCI_MANIFEST, true)] {
        let b = bytes.clone();
        let h =
            Hostile::start(move |_, _| Reply::with(200, &[("Content-Type", served)], b.clone()));
        let r = client(&h).manifest(&repo(&h), &d);
        assert_eq!(r.is_ok(), ok, "{served}: {:?}", r.err());
    }
}

#[test]
fn oversized_manifests_are_refused_while_they_arrive() {
    let h = Hostile::start(|req, _| {
        if req.path.contains("announced") {
            Reply::ok(vec![b' '; (4 << 20) + 1])
        } else {
            // No Content-Length: 1 GiB delimited by the connection's end.
            Reply::Endless {
                status: 200,
                total: 1 << 30,
            }
        }
    });
    let c = client(&h);
    let d = Digest::sha256(b"x");
    for name in ["announced", "endless"] {
        let r = Reference::parse(&format!("{}/{name}:1", h.host)).unwrap();
        let t = Instant::now();
        let e = c.manifest(&r, &d).unwrap_err();
        assert!(
            matches!(e, RegistryError::TooLarge { limit, .. } if limit == 4 << 20),
            "{name}: {e}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name}: read no further"
        );
    }
}

#[test]
fn a_redirect_loop_fails_once_without_retries() {
    let h = Hostile::start(|req, _| {
        let to = req.path.clone();
        Reply::with(302, &[("Location", &to)], Vec::new())
    });
    let body = data(10);
    let mut sink = Vec::new();
    let e = client(&h)
        .blob_to(&repo(&h), &blob_desc(&body), &mut sink)
        .unwrap_err();
    assert!(
        matches!(&e, RegistryError::Transport { reason, .. } if reason.contains("redirect")),
        "{e}"
    );
    let hits = h.seen().len();
    assert!((10..=12).contains(&hits), "{hits} requests");
}

#[test]
fn stalled_connections_time_out() {
    let body = data(1000);
    let desc = blob_desc(&body);
    let h = Hostile::start(|req, _| {
        if req.path.contains("/manifests/") {
            Reply::Stall
        } else {
            Reply::StallBody { len: 1000 }
        }
    });
    let c = client_for(&h.host, None, Duration::from_millis(400), 1).0;
    let t = Instant::now();
    let e = c.resolve(&repo(&h)).unwrap_err();
    assert!(
        matches!(&e, RegistryError::Transport { reason, .. } if reason.contains("timed out")),
        "{e}"
    );
    let mut sink = Vec::new();
    let e = c.blob_to(&repo(&h), &desc, &mut sink).unwrap_err();
    assert!(matches!(e, RegistryError::Transport { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(h.seen().len(), 4, "one retry each");
}

#[test]
fn a_503_is_retried_and_then_reported() {
    let good = manifest_bytes();
    let want = Digest::sha256(&good);
    let h = Hostile::start(move |req, n| {
        if req.path.contains("/flaky/") && n == 0 {
            Reply::with(503, &[("Retry-After", "0")], "busy")
        } else if req.path.contains("/flaky/") {
            Reply::with(200, &[("Content-Type", model::OCI_MANIFEST)], good.clone())
        } else {
            Reply::with(
                503,
                &[],
                r#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#,
            )
        }
    });
    let c = client(&h);
    let flaky = Reference::parse(&format!("{}/flaky:1", h.host)).unwrap();
    let (_, bytes) = c.manifest(&flaky, &want).unwrap();
    assert_eq!(bytes, manifest_bytes());
    assert_eq!(h.seen().len(), 2);

    let down = Reference::parse(&format!("{}/down:1", h.host)).unwrap();
    let e = c.manifest(&down, &want).unwrap_err();
    assert!(
        matches!(&e, RegistryError::Status { status: 503, message, .. } if message.contains("UNAVAILABLE try later")),
        "{e}"
    );
    assert_eq!(h.seen().len(), 2 + 3, "the first try and two retries");
}

#[test]
fn an_interrupted_blob_resumes_with_range() {
    let body = data(300_000);
    let desc = blob_desc(&body);
    let b = body.clone();
    let h = Hostile::start(move |req, n| {
        let ignores_range = req.path.contains("/norange/");
        match (n % 2, req.header("range")) {
            (0, None) => Reply::Cut {
                headers: Vec::new(),
                body: b.clone(),
                send: 123_456,
            },
            (1, Some(range)) if !ignores_range => {
                assert_eq!(range, "bytes=123456-");
                Reply::with(
                    206,
                    &[("Content-Range", "bytes 123456-299999/300000")],
                    b[123_456..].to_vec(),
                )
            }
            (1, Some(_)) => Reply::ok(b.clone()),
            other => panic!("unexpected request {n}: {other:?}"),
        }
    });
    let c = client(&h);
    for name in ["range", "norange"] {
        let r = Reference::parse(&format!("{}/{name}:1", h.host)).unwrap();
        let mut sink = Vec::new();
        assert_eq!(c.blob_to(&r, &desc, &mut sink).unwrap(), 300_000, "{name}");
        assert!(sink == body, "{name}: the bytes written are the blob");
    }
    assert_eq!(h.seen().len(), 4);
}

#[test]
fn a_range_answer_for_other_bytes_is_refused() {
    let body = data(1000);
    let desc = blob_desc(&body);
    let b = body.clone();
    let h = Hostile::start(move |_, n| {
        if n == 0 {
            Reply::Cut {
                headers: Vec::new(),
                body: b.clone(),
                send: 500,
            }
        } else {
            Reply::with(206, &[("Content-Range", "bytes 0-999/1000")], b.clone())
        }
    });
    let mut sink = Vec::new();
    let e = client(&h).blob_to(&repo(&h), &desc, &mut sink).unwrap_err();
    assert!(
        matches!(&e, RegistryError::Protocol { reason, .. } if reason.contains("Content-Range")),
        "{e}"
    );
    assert_eq!(sink.len(), 500);
}

fn index_of(entries: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": INDEX, "manifests": entries,
    }))
    .unwrap()
}

fn entry(n: u8, artifact_type: &str) -> serde_json::Value {
    serde_json::json!({
        "mediaType": model::OCI_MANIFEST,
        "digest": Digest::sha256(&[n]).to_string(),
        "size": 100 + u64::from(n),
        "artifactType": artifact_type,
    })
}

#[test]
fn the_referrers_api_is_used_when_it_answers_with_every_page() {
    let subject = Digest::sha256(b"subject");
    let s = subject.to_string();
    let h = Hostile::start(move |req, _| {
        assert!(
            req.path.starts_with(&format!("/v2/app/referrers/{s}")),
            "only the API: {}",
            req.path
        );
        if req.path.contains("page=2") {
            // The server ignores the artifactType filter: the client applies it.
            Reply::with(
                200,
                &[("Content-Type", INDEX)],
                index_of(&[
                    entry(3, model::NOTARY_SIGNATURE),
                    entry(4, "application/spdx+json"),
                ]),
            )
        } else {
            assert!(req
                .path
                .contains("artifactType=application%2Fvnd.cncf.notary.signature"));
            let next = format!("</v2/app/referrers/{s}?page=2>; rel=\"next\"");
            Reply::with(
                200,
                &[("Content-Type", INDEX), ("Link", &next)],
                index_of(&[
                    entry(1, model::NOTARY_SIGNATURE),
                    entry(2, "application/spdx+json"),
                ]),
            )
        }
    });
    let got = client(&h)
        .referrers(&repo(&h), &subject, Some(model::NOTARY_SIGNATURE))
        .unwrap();
    let digests: Vec<String> = got.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        digests,
        [
            Digest::sha256(&[1]).to_string(),
            Digest::sha256(&[3]).to_string()
        ]
    );
    assert_eq!(h.seen().len(), 2);
}

#[test]
fn referrers_fall_back_to_the_tag_only_on_404_and_never_hide_errors() {
    let subject = Digest::sha256(b"subject");
    let tag = format!("sha256-{}", subject.hex());
    let t = tag.clone();
    let h = Hostile::start(move |req, _| {
        if req.path.starts_with("/v2/broken/referrers/") {
            Reply::with(500, &[], "boom")
        } else if req.path.contains("/referrers/") {
            Reply::status(404)
        } else if req.path == format!("/v2/tagged/manifests/{t}") {
            Reply::with(
                200,
                &[("Content-Type", INDEX)],
                index_of(&[entry(5, model::NOTARY_SIGNATURE)]),
            )
        } else {
            Reply::status(404)
        }
    });
    let c = client_for(&h.host, None, Duration::from_secs(5), 0).0;
    let at = |name: &str| Reference::parse(&format!("{}/{name}:1", h.host)).unwrap();
    let got = c.referrers(&at("tagged"), &subject, None).unwrap();
    assert_eq!(got.len(), 1);
    assert!(c.referrers(&at("none"), &subject, None).unwrap().is_empty());
    let e = c.referrers(&at("broken"), &subject, None).unwrap_err();
    assert!(
        matches!(e, RegistryError::Status { status: 500, .. }),
        "{e}"
    );
}

#[test]
fn bearer_tokens_come_from_the_challenge_realm_with_the_configured_credentials() {
    let body = data(5000);
    let desc = blob_desc(&body);
    let b = body.clone();
    let h = Hostile::start(move |req, _| {
        if req.path.starts_with("/token") {
            if req.path.contains("evil") {
                return Reply::ok(r#"{"token":"line\nbreak"}"#);
            }
            // Basic credentials from the docker config, and the repository's pull scope.
            assert_eq!(req.header("authorization"), Some("Basic YWxpY2U6czNjcmV0"));
            assert!(
                req.path.contains("scope=repository%3Aapp%3Apull"),
                "{}",
                req.path
            );
            assert!(req.path.contains("service=hostile"), "{}", req.path);
            return Reply::ok(r#"{"token":"t0ken","expires_in":60}"#);
        }
        match req.header("authorization") {
            Some("Bearer t0ken") => Reply::ok(b.clone()),
            _ => {
                let realm = if req.path.contains("/evil/") {
                    "token-evil"
                } else {
                    "token"
                };
                let challenge = format!(
                    "Bearer realm=\"http://{}/{realm}\",service=\"hostile\"",
                    req.header("host").unwrap_or_default()
                );
                Reply::with(401, &[("WWW-Authenticate", &challenge)], Vec::new())
            }
        }
    });
    let c = client_for(
        &h.host,
        Some(("alice", "s3cret")),
        Duration::from_secs(5),
        1,
    )
    .0;
    let mut sink = Vec::new();
    assert_eq!(c.blob_to(&repo(&h), &desc, &mut sink).unwrap(), 5000);
    assert!(sink == body);
    // The token is cached per repository: a second blob needs no new handshake.
    let before = h.seen().len();
    let mut sink = Vec::new();
    c.blob_to(&repo(&h), &desc, &mut sink).unwrap();
    assert_eq!(h.seen().len(), before + 1);

    // A token no HTTP header can carry is an error, not a panic.
    let evil = Reference::parse(&format!("{}/evil:1", h.host)).unwrap();
    let e = c.blob_to(&evil, &desc, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&e, RegistryError::Protocol { reason, .. } if reason.contains("token")),
        "{e}"
    );
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let body = data(2000);
    let desc = blob_desc(&body);
    let b = body.clone();
    let storage = Hostile::start(move |_, _| Reply::ok(b.clone()));
    let target = format!("{}/storage/blob", storage.url());
    let front = Hostile::start(move |req, _| match req.header("authorization") {
        Some(a) if a.starts_with("Basic ") => {
            Reply::with(307, &[("Location", &target)], Vec::new())
        }
        _ => Reply::with(
            401,
            &[("WWW-Authenticate", "Basic realm=\"r\"")],
            Vec::new(),
        ),
    });
    let c = client_for(
        &front.host,
        Some(("alice", "s3cret")),
        Duration::from_secs(5),
        1,
    )
    .0;
    let mut sink = Vec::new();
    assert_eq!(c.blob_to(&repo(&front), &desc, &mut sink).unwrap(), 2000);
    assert!(sink == body);
    let seen = storage.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].header("authorization"),
        None,
        "{:?}",
        seen[0].headers
    );
}

/// A client whose docker config holds the identity token `r3fresh` for `host`, speaking plain
/// HTTP to every port of 127.0.0.1, no retries.
fn identity_token_client(host: &str) -> (Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!("{{\"auths\":{{\"{host}\":{{\"identitytoken\":\"r3fresh\"}}}}}}"),
    )
    .unwrap();
    let c = Registry::new(airlock::registry::Options {
        plain_http: vec!["127.0.0.1".into()],
        registry_config: Some(config),
        timeout: Some(Duration::from_secs(5)),
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    (c, dir)
}

#[test]
fn an_identity_token_is_exchanged_through_the_refresh_token_grant() {
    let body = data(700);
    let desc = blob_desc(&body);
    let b = body.clone();
    let h = Hostile::start(move |req, _| {
        if req.path == "/token" {
            assert_eq!(req.method, "POST");
            let form = String::from_utf8_lossy(&req.body).into_owned();
            for part in [
                "grant_type=refresh_token",
                "refresh_token=r3fresh",
                "scope=repository%3Aapp%3Apull",
                "service=hostile",
                "client_id=airlock",
            ] {
                assert!(form.contains(part), "{form}");
            }
            assert_eq!(req.header("authorization"), None);
            return Reply::ok(r#"{"access_token":"acc3ss"}"#);
        }
        match req.header("authorization") {
            Some("Bearer acc3ss") => Reply::ok(b.clone()),
            _ => {
                let challenge = format!(
                    "Bearer realm=\"http://{}/token\",service=\"hostile\"",
                    req.header("host").unwrap_or_default()
                );
                Reply::with(401, &[("WWW-Authenticate", &challenge)], Vec::new())
            }
        }
    });
    let (c, _dir) = identity_token_client(&h.host);
    let mut sink = Vec::new();
    assert_eq!(c.blob_to(&repo(&h), &desc, &mut sink).unwrap(), 700);
    assert!(!format!("{:?}", c.credential(&repo(&h)).unwrap()).contains("r3fresh"));
}

/// The text of a [`RegistryError::TimedOut`], else a failure naming what came instead.
fn timed_out(e: &RegistryError) -> String {
    assert!(matches!(e, RegistryError::TimedOut { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn a_stalled_blob_fails_within_the_retry_budget_naming_the_blob() {
    // Headers, then silence: each attempt waits out the idle timeout (1 s), and the retries (as
    // many as it likes) stop at the retry budget (3 s), not after 50 silences.
    let body = data(1_000_000);
    let desc = blob_desc(&body);
    let h = Hostile::start(|_, _| Reply::StallBody { len: 1_000_000 });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(1),
        50,
        Duration::from_secs(3),
        None,
    );
    let t = Instant::now();
    let e = c.blob_to(&repo(&h), &desc, &mut Vec::new()).unwrap_err();
    let took = t.elapsed();
    let msg = timed_out(&e);
    assert!(msg.contains(&desc.digest), "{msg}");
    assert!(msg.contains(&format!("{}/app", h.host)), "{msg}");
    assert!(msg.contains("stalled"), "{msg}");
    assert!(msg.contains("0 of 1000000 bytes"), "{msg}");
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(9),
        "{took:?}"
    );
    assert!(h.seen().len() >= 2, "retried on a new connection first");

    // The default settings give up a stalled blob after one budget, about a minute, not 8.
    let d = airlock::registry::Options::default();
    assert_eq!(d.retry_budget, None);
    assert_eq!(
        airlock::registry::DEFAULT_RETRY_BUDGET,
        Duration::from_secs(60)
    );
    assert!(airlock::registry::DEFAULT_TIMEOUT < airlock::registry::DEFAULT_RETRY_BUDGET);
}

#[test]
fn a_trickling_blob_fails_its_deadline() {
    // Never silent (1000 bytes every 100 ms), never done: 200 kB at 10 kB/s would take 20 s. At
    // a minimum rate of 100 kB/s the blob may take 2 s (budget) + 2 s (size / rate).
    let body = data(200_000);
    let desc = blob_desc(&body);
    let b = body.clone();
    let h = Hostile::start(move |_, _| Reply::Trickle {
        status: 200,
        body: b.clone(),
        chunk: 1000,
        every: Duration::from_millis(100),
    });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(1),
        3,
        Duration::from_secs(2),
        Some(100_000),
    );
    let t = Instant::now();
    let e = c
        .blob_to_unhashed(&repo(&h), &desc, &mut Vec::new())
        .unwrap_err();
    let took = t.elapsed();
    let msg = timed_out(&e);
    assert!(msg.contains(&desc.digest), "{msg}");
    assert!(msg.contains("deadline"), "{msg}");
    assert!(
        msg.contains("100000 B/s"),
        "says how the deadline was set: {msg}"
    );
    assert!(
        took >= Duration::from_millis(3900) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(h.seen().len(), 1, "a deadline is final");
}

#[test]
fn a_blob_that_stalls_midway_resumes_within_the_budget() {
    let body = data(300_000);
    let desc = blob_desc(&body);
    let b = body.clone();
    let h = Hostile::start(move |req, n| match (n, req.header("range")) {
        (0, None) => Reply::StallAfter {
            body: b.clone(),
            send: 100_000,
        },
        (1, Some("bytes=100000-")) => Reply::with(
            206,
            &[("Content-Range", "bytes 100000-299999/300000")],
            b[100_000..].to_vec(),
        ),
        other => panic!("unexpected request {n}: {other:?}"),
    });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(1),
        2,
        Duration::from_secs(3),
        None,
    );
    let t = Instant::now();
    let mut sink = Vec::new();
    assert_eq!(c.blob_to(&repo(&h), &desc, &mut sink).unwrap(), 300_000);
    assert!(sink == body);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(h.seen().len(), 2);
}

#[test]
fn stalled_manifests_and_tokens_fail_within_the_budget() {
    // An idle timeout longer than the budget is cut to the budget: 2 s, whatever the retries.
    let h = Hostile::start(|req, _| {
        if req.path.starts_with("/token") || req.path.contains("/silent/") {
            return Reply::Stall;
        }
        let challenge = format!(
            "Bearer realm=\"http://{}/token\",service=\"hostile\"",
            req.header("host").unwrap_or_default()
        );
        Reply::with(401, &[("WWW-Authenticate", &challenge)], Vec::new())
    });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(30),
        20,
        Duration::from_secs(2),
        None,
    );
    for name in ["silent", "authed"] {
        let r = Reference::parse(&format!("{}/{name}:v1", h.host)).unwrap();
        let t = Instant::now();
        let e = c.resolve(&r).unwrap_err();
        let took = t.elapsed();
        let msg = timed_out(&e);
        assert!(
            msg.starts_with(&format!("manifest {}/{name}:v1: stalled", h.host)),
            "{msg}"
        );
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
            "{name}: {took:?}"
        );
    }
}

#[test]
fn a_trickled_upload_answer_fails_by_the_budget() {
    // The registry refuses the manifest, and sends its 60 KB error body (under the 64 KiB cap: a
    // larger one announced is refused at once) 100 bytes at a time.
    let h = Hostile::start(|req, _| {
        if req.method == "PUT" {
            Reply::Trickle {
                status: 400,
                body: vec![b'x'; 60_000],
                chunk: 100,
                every: Duration::from_millis(50),
            }
        } else {
            Reply::status(404)
        }
    });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(1),
        0,
        Duration::from_secs(2),
        None,
    );
    let r = Reference::parse(&format!("{}/app:v1", h.host)).unwrap();
    let t = Instant::now();
    let e = c
        .push_manifest(&r, model::OCI_MANIFEST, &manifest_bytes())
        .unwrap_err();
    let took = t.elapsed();
    let msg = timed_out(&e);
    assert!(
        msg.starts_with(&format!("pushing manifest {}/app:v1: stalled", h.host)),
        "{msg}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// A bundle of one image, `registry.example/app:v1`, with 1000-byte layers.
fn v1_layout(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("layout");
    airlock::fixture::generate(
        &root,
        &airlock::fixture::Spec {
            reference: "registry.example/app:v1".into(),
            layer_size: 1000,
            referrer: false,
            ..Default::default()
        },
    )
    .unwrap();
    root
}

/// `airlock import ROOT --to HOST --integrity-only`, run in `dir`.
fn import_into(dir: &std::path::Path, root: &std::path::Path, host: &str) -> crate::common::Run {
    crate::common::run_in(
        dir,
        &[
            "import",
            root.to_str().unwrap(),
            "--to",
            host,
            "--integrity-only",
        ],
    )
}

#[test]
fn a_refused_push_names_the_tag_asked_for_once() {
    let t = tempfile::tempdir().unwrap();
    let root = v1_layout(t.path());
    for refused in ["upload", "tag"] {
        let h = Hostile::start(move |req, _| {
            let denied = || {
                Reply::with(
                    400,
                    &[],
                    r#"{"errors":[{"code":"DENIED","message":"not today"}]}"#,
                )
            };
            match (req.method.as_str(), req.path.as_str()) {
                // "tag": every blob is there already, manifests by digest are taken, the tag not.
                ("HEAD", p) if p.contains("/blobs/") && refused == "tag" => Reply::status(200),
                ("HEAD" | "GET", _) => Reply::status(404),
                ("PUT", p) if p.contains("/manifests/sha256:") => {
                    Reply::with(201, &[("Location", p)], Vec::new())
                }
                _ => denied(),
            }
        });
        let r = import_into(t.path(), &root, &h.host);
        assert_eq!(r.code, 2, "{refused}: {}", r.stderr);
        let err = r
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{refused}: {}", r.stderr));
        assert!(
            err.contains(&format!("{}/app:v1", h.host)),
            "{refused}: {err}"
        );
        assert!(!err.contains(":latest"), "{refused}: {err}");
        assert_eq!(err.matches("not today").count(), 1, "{refused}: {err}");
        if refused == "upload" {
            assert!(err.contains("pushing blob sha256:"), "{err}");
        } else {
            assert!(err.contains("pushing manifest"), "{err}");
        }
    }
}

#[test]
fn errors_print_each_cause_once() {
    // The OS error is the source of an error that also prints it: said once, not twice.
    let t = tempfile::tempdir().unwrap();
    let root = v1_layout(t.path());
    let missing = t.path().join("no-such-dir");
    // export creates a missing output folder, so its OS error comes from a folder that is a file.
    let file = t.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = file.join("out.tar");
    for (args, os_error) in [
        (
            vec!["verify", missing.to_str().unwrap(), "--integrity-only"],
            "(os error 2)",
        ),
        (
            vec![
                "export",
                &format!("oci:{}", root.display()),
                "-o",
                out.to_str().unwrap(),
            ],
            "(os error 17)",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
        let r = crate::common::run_in(t.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.matches(os_error).count(),
            1,
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn export_and_import_take_the_network_deadlines_from_the_command_line() {
    let t = tempfile::tempdir().unwrap();
    let root = v1_layout(t.path());
    let h = Hostile::start(|_, _| Reply::Stall);
    let src = format!("{}/app:v1", h.host);
    let out = t.path().join("out.tar");
    for args in [
        vec![
            "export",
            &src,
            "-o",
            out.to_str().unwrap(),
            "--plain-http",
            &h.host,
            "--network-timeout",
            "2",
            "--min-rate",
            "1M",
        ],
        vec![
            "import",
            root.to_str().unwrap(),
            "--to",
            &h.host,
            "--integrity-only",
            "--network-timeout",
            "2",
            "--min-rate",
            "512KiB",
        ],
    ] {
        let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
        let t0 = Instant::now();
        let r = crate::common::run_in(t.path(), &args);
        let took = t0.elapsed();
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("stalled") || r.stderr.contains("deadline"),
            "{args:?}: {}",
            r.stderr
        );
        // One budget (2 s), not one per blob checked or per retry.
        assert!(took < Duration::from_secs(8), "{args:?}: {took:?}");
        assert!(
            r.stderr.contains("/app:v1"),
            "names the image: {}",
            r.stderr
        );
    }
    let r = crate::common::run_in(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            out.to_str().unwrap(),
            "--min-rate",
            "fast",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--min-rate"), "{}", r.stderr);
}

/// A body produced more slowly than the client's per-read timeout (as a large layer is): the
/// upload completes. A read timeout on the push client cut every upload longer than it (found by
/// the bench's 4 GiB layer: the import stopped at 3.8 GiB); uploads are bounded by their own
/// allowance instead.
#[test]
fn an_upload_longer_than_the_read_timeout_completes() {
    let h = Hostile::start(|req, _| match req.method.as_str() {
        "POST" => Reply::with(202, &[("Location", "/v2/app/blobs/uploads/u1")], Vec::new()),
        "PUT" => Reply::with(201, &[("Location", "/v2/app/blobs/u1")], Vec::new()),
        _ => Reply::status(404),
    });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(1),
        0,
        Duration::from_secs(10),
        None,
    );
    let body = data(1 << 20);
    let desc = blob_desc(&body);
    /// 64 KiB every 150 ms: 16 reads, 2.4 s.
    struct Slow(std::io::Cursor<Vec<u8>>);
    impl std::io::Read for Slow {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(150));
            let n = b.len().min(64 << 10);
            self.0.read(&mut b[..n])
        }
    }
    let t = Instant::now();
    let pushed = c
        .push_blob(
            &repo(&h),
            &desc,
            Box::new(Slow(std::io::Cursor::new(body.clone()))),
        )
        .unwrap();
    assert!(pushed);
    assert!(t.elapsed() > Duration::from_secs(2), "{:?}", t.elapsed());
    let put = h
        .seen()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("the blob was put");
    assert!(put.body == body, "the whole body arrived");
}

/// A client with `alice`'s credentials for `front`, speaking plain HTTP to `plain` (`127.0.0.1`:
/// every port, so to another origin on the same machine too).
fn client_with_credentials(front: &str, plain: &str) -> (Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(r#"{{"auths":{{"{front}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#),
    )
    .unwrap();
    let reg = Registry::new(airlock::registry::Options {
        plain_http: vec![plain.to_owned()],
        registry_config: Some(config),
        timeout: Some(Duration::from_secs(5)),
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    (reg, dir)
}

/// A registry that asks for basic credentials (alice's) and answers an authenticated upload
/// `POST` with `post()`, and anything else with 404.
fn alices_registry(post: impl Fn() -> Reply + Send + Sync + 'static) -> Hostile {
    Hostile::start(move |req, _| match req.header("authorization") {
        Some("Basic YWxpY2U6czNjcmV0") if req.method == "POST" => post(),
        Some("Basic YWxpY2U6czNjcmV0") => Reply::status(404),
        _ => Reply::with(
            401,
            &[("WWW-Authenticate", "Basic realm=\"r\"")],
            Vec::new(),
        ),
    })
}

/// A registry answers the upload POST with a `Location` on another origin (here another port):
/// the bytes go there, the credentials for the registry do not. The same `Location` on plain
/// HTTP, when only the registry itself was named in `--plain-http`, is refused before any byte
/// is sent.
#[test]
fn an_upload_location_on_another_host_gets_no_credentials() {
    let body = data(3000);
    let desc = blob_desc(&body);
    let elsewhere = Hostile::start(|req, _| match req.method.as_str() {
        "PUT" | "PATCH" => Reply::with(201, &[("Location", "/v2/app/blobs/x")], Vec::new()),
        _ => Reply::status(404),
    });
    let upload = format!("{}/v2/app/blobs/uploads/u1?_state=abc", elsewhere.url());
    let front = alices_registry(move || Reply::with(202, &[("Location", &upload)], Vec::new()));
    let (c, _cfg) = client_with_credentials(&front.host, "127.0.0.1");
    let pushed = c
        .push_blob(
            &repo(&front),
            &desc,
            Box::new(std::io::Cursor::new(body.clone())),
        )
        .unwrap();
    assert!(pushed);
    let seen = elsewhere.seen();
    let put = seen
        .iter()
        .find(|s| s.method == "PUT")
        .expect("the bytes went to the Location");
    assert_eq!(put.body, body);
    assert!(put.path.contains("_state=abc"), "{}", put.path);
    assert!(
        put.path
            .contains(&format!("digest={}", desc.digest.replace(':', "%3A"))),
        "{}",
        put.path
    );
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            None,
            "credentials sent to another host: {} {}",
            s.method,
            s.path
        );
    }

    // Plain HTTP to a host not named: refused, nothing sent there.
    let before = elsewhere.seen().len();
    let (c, _cfg) = client_with_credentials(&front.host, &front.host);
    let e = c
        .push_blob(&repo(&front), &desc, Box::new(std::io::Cursor::new(body)))
        .unwrap_err();
    assert!(e.to_string().contains("plain HTTP"), "{e}");
    assert_eq!(elsewhere.seen().len(), before);
}

/// The upload `POST` redirected to another origin, whose answer names the upload by a relative
/// `Location`: the bytes go to where the redirect led (the `Location` is resolved against the URL
/// that answered), without the registry's credentials, and nothing goes back to the first host.
#[test]
fn an_upload_location_is_resolved_against_the_answering_host() {
    let body = data(2000);
    let desc = blob_desc(&body);
    let elsewhere = Hostile::start(|req, _| match req.method.as_str() {
        "POST" => Reply::with(202, &[("Location", "/v2/app/blobs/uploads/u9")], Vec::new()),
        "PUT" => Reply::with(201, &[("Location", "/v2/app/blobs/x")], Vec::new()),
        _ => Reply::status(404),
    });
    let to = format!("{}/v2/app/blobs/uploads/", elsewhere.url());
    let front = alices_registry(move || Reply::with(307, &[("Location", &to)], Vec::new()));
    let (c, _cfg) = client_with_credentials(&front.host, "127.0.0.1");
    assert!(c
        .push_blob(
            &repo(&front),
            &desc,
            Box::new(std::io::Cursor::new(body.clone()))
        )
        .unwrap());
    let seen = elsewhere.seen();
    let put = seen
        .iter()
        .find(|s| s.method == "PUT")
        .expect("the PUT went where the redirect led");
    assert!(
        put.path.starts_with("/v2/app/blobs/uploads/u9"),
        "{}",
        put.path
    );
    assert_eq!(put.body, body);
    assert!(seen.iter().all(|s| s.header("authorization").is_none()));
    assert!(front.seen().iter().all(|s| s.method != "PUT"));
}

/// Every answer a registry gives to an upload is read through the cap of the pull side (64 KiB
/// for an error body or a token): a registry, or a token realm, that answers with an endless body
/// gets an error with its status, not an import that reads until memory runs out (red team E2:
/// `oci-client` read these whole).
#[test]
fn endless_answers_to_uploads_are_read_through_the_cap() {
    const ENDLESS: u64 = 64 << 30;
    let body = data(3000);
    let desc = blob_desc(&body);
    for step in ["post", "put", "manifest", "mount", "token"] {
        let h = Hostile::start(move |req, _| {
            let endless = Reply::Endless {
                status: 400,
                total: ENDLESS,
            };
            match (step, req.method.as_str(), req.path.as_str()) {
                ("token", _, p) if p.starts_with("/token") => Reply::Endless {
                    status: 200,
                    total: ENDLESS,
                },
                ("token", _, _) => {
                    // Two repositories, as a mount's challenge names them.
                    let challenge = format!(
                        "Bearer realm=\"http://{}/token\",service=\"s\",scope=\"repository:app:pull,push repository:other:pull\"",
                        req.header("host").unwrap_or_default()
                    );
                    Reply::with(401, &[("WWW-Authenticate", &challenge)], Vec::new())
                }
                (_, "HEAD", _) => Reply::status(404),
                ("post" | "mount", "POST", _) => endless,
                (_, "POST", _) => {
                    Reply::with(202, &[("Location", "/v2/app/blobs/uploads/u1")], Vec::new())
                }
                ("put" | "manifest", "PUT", _) => endless,
                _ => Reply::status(404),
            }
        });
        let c = client(&h);
        let t = Instant::now();
        let r = match step {
            "manifest" => c.push_manifest(&repo(&h), model::OCI_MANIFEST, &manifest_bytes()),
            "mount" => c.mount(
                &repo(&h),
                &Reference::parse(&format!("{}/other:1", h.host)).unwrap(),
                &desc.digest,
            ),
            _ => c
                .push_blob(
                    &repo(&h),
                    &desc,
                    Box::new(std::io::Cursor::new(body.clone())),
                )
                .map(|_| ()),
        };
        let e = r.expect_err(step);
        eprintln!("{step}: {e} ({:?})", t.elapsed());
        // 64 GiB at loopback speed is tens of seconds; the cap stops after 64 KiB.
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{step}: {:?}",
            t.elapsed()
        );
        if step == "token" {
            assert!(e.to_string().contains("exceeds 65536 bytes"), "{step}: {e}");
            // One `scope` parameter for each repository the challenge names.
            let asked = h
                .seen()
                .into_iter()
                .find(|r| r.path.starts_with("/token"))
                .unwrap();
            assert!(
                asked.path.contains(
                    "scope=repository%3Aapp%3Apull%2Cpush&scope=repository%3Aother%3Apull"
                ),
                "{}",
                asked.path
            );
        } else {
            assert!(e.to_string().contains("HTTP 400"), "{step}: {e}");
        }
    }
}

/// A manifest PUT answered 201 whose `Location` names another digest (the registry recorded other
/// bytes, or says so) is an error, not a success; one with no `Location` at all for a push by
/// digest is an error too (oci-client 0.18 panicked on it, ending the import).
#[test]
fn a_manifest_push_answered_with_another_digest_is_refused() {
    let bytes = manifest_bytes();
    let other = Digest::sha256(b"something else").to_string();
    let loc = format!("/v2/app/manifests/{other}");
    let h = Hostile::start(move |req, _| match req.method.as_str() {
        "PUT" => Reply::with(
            201,
            &[("Location", &loc), ("Docker-Content-Digest", &other)],
            Vec::new(),
        ),
        _ => Reply::status(404),
    });
    let r = client(&h).push_manifest(&repo(&h), model::OCI_MANIFEST, &bytes);
    let e = r.expect_err("a push the registry records under another digest passed");
    assert!(e.to_string().contains("digest"), "{e}");

    let h = Hostile::start(|req, _| match req.method.as_str() {
        "PUT" => Reply::status(201),
        _ => Reply::status(404),
    });
    let by_digest =
        Reference::parse(&format!("{}/app@{}", h.host, Digest::sha256(&bytes))).unwrap();
    let r = std::panic::catch_unwind(|| {
        client(&h).push_manifest(&by_digest, model::OCI_MANIFEST, &bytes)
    });
    let r = r.expect("pushing by digest to a registry that gives no Location panicked");
    assert!(r.is_err(), "a push with no Location passed");

    // A Location elsewhere (another repository's tag) and no digest says nothing of what was
    // recorded here (red team G, G4); the very reference pushed, or a digest, does.
    for (location, ok) in [
        ("/v2/other/manifests/latest", false),
        ("/v2/app/manifests/2", false),
        ("/v2/app/manifests/1", true),
    ] {
        let h = Hostile::start(move |req, _| match req.method.as_str() {
            "PUT" => Reply::with(201, &[("Location", location)], Vec::new()),
            _ => Reply::status(404),
        });
        let r = client(&h).push_manifest(&repo(&h), model::OCI_MANIFEST, &bytes);
        assert_eq!(r.is_ok(), ok, "{location}: {r:?}");
    }
}

/// A registry that takes a blob's whole body and never answers: the upload fails one retry
/// budget after its last progress, even with `--min-rate 0`, which turns off only the size
/// deadline (red team G, G2: it waited for ever).
#[test]
fn an_upload_nobody_answers_is_stalled_after_the_budget_even_without_a_minimum_rate() {
    let h = Hostile::start(|req, _| match req.method.as_str() {
        "POST" => Reply::with(202, &[("Location", "/v2/app/blobs/uploads/u1")], Vec::new()),
        "PUT" => Reply::Stall,
        _ => Reply::status(404),
    });
    let (c, _cfg) = client_clocked(
        &h.host,
        Duration::from_secs(1),
        0,
        Duration::from_secs(2),
        Some(0),
    );
    let body = data(100_000);
    let desc = blob_desc(&body);
    let t = Instant::now();
    let e = c
        .push_blob(&repo(&h), &desc, Box::new(std::io::Cursor::new(body)))
        .unwrap_err();
    let msg = timed_out(&e);
    assert!(msg.contains("stalled"), "{msg}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

/// A token realm that redirects: the token request is not sent again to where it points (it
/// carries the credentials: an identity token in a POST body went along a 307 to another host,
/// red team G, G1). The realm's answer is an error.
#[test]
fn a_token_realm_that_redirects_is_not_followed() {
    let elsewhere = Hostile::start(|_, _| Reply::ok(r#"{"access_token":"x"}"#));
    let away = format!("{}/token", elsewhere.url());
    let h = Hostile::start(move |req, _| {
        if req.path.starts_with("/token") {
            return Reply::with(307, &[("Location", &away)], Vec::new());
        }
        let challenge = format!(
            "Bearer realm=\"http://{}/token\",service=\"hostile\"",
            req.header("host").unwrap_or_default()
        );
        Reply::with(401, &[("WWW-Authenticate", &challenge)], Vec::new())
    });
    let (c, _dir) = identity_token_client(&h.host);
    let body = data(700);
    let desc = blob_desc(&body);
    let e = c.blob_to(&repo(&h), &desc, &mut Vec::new()).unwrap_err();
    eprintln!("{e}");
    assert!(
        elsewhere.seen().is_empty(),
        "the token request followed the redirect"
    );
}

/// The same registry answer (a 201 with no `Location` to a manifest pushed by digest) through the
/// command: import fails with the reason, exit 2, and no panic report reaches stderr (oci-client
/// 0.18, which airlock used for uploads until the tenth session, panicked on it).
#[test]
fn import_reports_a_manifest_push_without_location_as_an_error_not_a_panic() {
    let t = tempfile::tempdir().unwrap();
    let root = v1_layout(t.path());
    let h = Hostile::start(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/v2/") => Reply::status(200),
        ("HEAD" | "GET", _) => Reply::status(404),
        ("POST", p) if p.contains("/blobs/uploads/") => {
            Reply::with(202, &[("Location", "/v2/app/blobs/uploads/u1")], Vec::new())
        }
        ("PUT", p) if p.contains("/blobs/uploads/") => {
            Reply::with(201, &[("Location", "/v2/app/blobs/x")], Vec::new())
        }
        ("PUT", p) if p.contains("/manifests/") => Reply::status(201),
        _ => Reply::status(404),
    });
    let r = import_into(t.path(), &root, &h.host);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("Location"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// Tag pages of `per_page` tags each, every page pointing at one more, for ever.
fn endless_tags(per_page: usize, tag_len: usize) -> Hostile {
    Hostile::start(move |req, n| {
        assert!(req.path.starts_with("/v2/app/tags/list"), "{}", req.path);
        let tags: Vec<String> = (0..per_page)
            .map(|i| {
                let t = format!("t{n}-{i}-");
                format!("{t}{}", "x".repeat(tag_len.saturating_sub(t.len())))
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({"name": "app", "tags": tags})).unwrap();
        let next = format!("</v2/app/tags/list?n=1000&last=p{n}>; rel=\"next\"");
        Reply::with(
            200,
            &[("Content-Type", "application/json"), ("Link", &next)],
            body,
        )
    })
}

#[test]
fn a_tag_list_is_cut_while_its_pages_are_read() {
    // The caller's cap: the first tags, then no further page.
    let h = endless_tags(1000, 4);
    let listed = client(&h).tags_upto(&repo(&h), 5).unwrap();
    assert_eq!(listed.tags.len(), 5);
    assert!(listed.more);
    assert_eq!(h.seen().len(), 1);

    // The whole list: refused once the pages hold more than MAX_TAGS, before the page limit.
    let h = endless_tags(5000, 4);
    let e = client(&h).tags(&repo(&h)).unwrap_err();
    assert!(e.to_string().contains("more than 64000 tags"), "{e}");
    assert_eq!(h.seen().len(), 13, "64,000 tags at 5,000 a page");

    // Long tag names: refused by their bytes (8000 KiB), not after 64 pages of them.
    let h = endless_tags(1, 3 << 20);
    let e = client(&h).tags(&repo(&h)).unwrap_err();
    assert!(e.to_string().contains("more than 64000 tags"), "{e}");
    assert_eq!(h.seen().len(), 3);
}

#[test]
fn a_referrers_list_is_refused_past_1024_while_its_pages_are_read() {
    let subject = Digest::sha256(b"subject");
    let h = Hostile::start(move |req, n| {
        assert!(req.path.contains("/referrers/"), "{}", req.path);
        let entries: Vec<_> = (0..600u32)
            .map(|i| {
                serde_json::json!({
                    "mediaType": model::OCI_MANIFEST,
                    "digest": Digest::sha256(format!("{n}-{i}").as_bytes()).to_string(),
                    "size": 100,
                    "artifactType": model::NOTARY_SIGNATURE,
                })
            })
            .collect();
        let next = format!("</v2/app/referrers/x?page={}>; rel=\"next\"", n + 1);
        Reply::with(
            200,
            &[("Content-Type", INDEX), ("Link", &next)],
            index_of(&entries),
        )
    });
    let e = client(&h).referrers(&repo(&h), &subject, None).unwrap_err();
    assert!(e.to_string().contains("more than 1024 referrers"), "{e}");
    assert_eq!(h.seen().len(), 2, "the second page of 600 passes 1024");
}

/// A receipt manifest (its in-toto layer `statement`), distinct by `n`.
fn receipt_manifest(n: usize, statement: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
        "artifactType": airlock::receipt::MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                   "size": 2},
        "layers": [{"mediaType": airlock::receipt::MEDIA_TYPE,
                    "digest": Digest::sha256(statement).to_string(), "size": statement.len()}],
        "annotations": {"n": n.to_string()},
    }))
    .unwrap()
}

/// A registry whose Referrers API lists `listed` (indexes into `manifests`) for the image and
/// nothing for the receipts; it serves the manifests and the one statement.
fn receipts_registry(
    image: &Digest,
    manifests: Vec<Vec<u8>>,
    listed: Vec<usize>,
    statement: Vec<u8>,
) -> Hostile {
    let image_path = format!("/v2/app/referrers/{image}");
    Hostile::start(move |req, _| {
        if req.path.starts_with(&image_path) {
            let entries: Vec<_> = listed
                .iter()
                .map(|&i| {
                    serde_json::json!({
                        "mediaType": model::OCI_MANIFEST,
                        "digest": Digest::sha256(&manifests[i]).to_string(),
                        "size": manifests[i].len(),
                        "artifactType": airlock::receipt::MEDIA_TYPE,
                    })
                })
                .collect();
            return Reply::with(200, &[("Content-Type", INDEX)], index_of(&entries));
        }
        if req.path.contains("/referrers/") {
            return Reply::with(200, &[("Content-Type", INDEX)], index_of(&[]));
        }
        if req.path.contains("/blobs/") {
            return Reply::ok(statement.clone());
        }
        for m in &manifests {
            let d = Digest::sha256(m).to_string();
            if req.path.ends_with(&d) {
                return Reply::with(
                    200,
                    &[
                        ("Content-Type", model::OCI_MANIFEST),
                        ("Docker-Content-Digest", &d),
                    ],
                    m.clone(),
                );
            }
        }
        Reply::status(404)
    })
}

#[test]
fn receipts_are_pulled_once_each_and_at_most_1024() {
    let image = Digest::sha256(b"image");
    let statement = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    // The same receipt listed 400 times: pulled once.
    let h = receipts_registry(
        &image,
        vec![receipt_manifest(0, statement)],
        vec![0; 400],
        statement.to_vec(),
    );
    let pulled = airlock::receipt::pull::pull(&client(&h), &repo(&h), &image).unwrap();
    assert_eq!(pulled.len(), 1);
    assert!(pulled[0].statement.is_ok());
    let manifest_gets = h
        .seen()
        .iter()
        .filter(|r| r.path.contains("/manifests/"))
        .count();
    assert_eq!(manifest_gets, 1);

    // 1,100 distinct receipts: refused by the listing's own bound (1,024 referrers of one
    // subject), before any is read.
    let manifests: Vec<_> = (0..1100).map(|n| receipt_manifest(n, statement)).collect();
    let h = receipts_registry(&image, manifests, (0..1100).collect(), statement.to_vec());
    let e = airlock::receipt::pull::pull(&client(&h), &repo(&h), &image).unwrap_err();
    assert!(e.to_string().contains("more than 1024"), "{e}");
    let manifest_gets = h
        .seen()
        .iter()
        .filter(|r| r.path.contains("/manifests/"))
        .count();
    assert_eq!(manifest_gets, 0);

    // Newest (listed last) first, and the search stops where the visitor says.
    let manifests: Vec<_> = (0..10).map(|n| receipt_manifest(n, statement)).collect();
    let newest = Digest::sha256(&manifests[9]);
    let h = receipts_registry(&image, manifests, (0..10).collect(), statement.to_vec());
    let mut first = None;
    let examined = airlock::receipt::pull::pull_each(&client(&h), &repo(&h), &image, |p| {
        first.get_or_insert(p.manifest_digest);
        std::ops::ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(examined, 1);
    assert_eq!(first, Some(newest));
}

/// One receipt that cannot be read (here a manifest over the 4 MiB cap, listed first) is that
/// receipt's failure, and the search goes on to the next (red team G's note: it ended the search
/// with exit 2, so a carrier's receipt listed first by a registry hid the site's).
#[test]
fn an_unreadable_receipt_does_not_end_the_search() {
    let image = Digest::sha256(b"image");
    let statement = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let mut huge =
        serde_json::from_slice::<serde_json::Value>(&receipt_manifest(1, statement)).unwrap();
    huge["annotations"]["n"] = serde_json::json!("x".repeat(5 << 20));
    let manifests = vec![
        receipt_manifest(0, statement),
        serde_json::to_vec(&huge).unwrap(),
    ];
    // Listed 0 then 1: read newest (1, the unreadable one) first.
    let h = receipts_registry(&image, manifests, vec![0, 1], statement.to_vec());
    let mut seen = Vec::new();
    airlock::receipt::pull::pull_each(&client(&h), &repo(&h), &image, |p| {
        seen.push(p.statement.is_ok());
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, [false, true]);
}

#[test]
fn receipts_of_one_image_are_refused_past_1_gib() {
    let image = Digest::sha256(b"image");
    // 4 MiB statements: the 257th receipt passes 1 GiB.
    let mut statement = br#"{"_type":"https://in-toto.io/Statement/v1","pad":""#.to_vec();
    statement.resize(4 << 20, b'x');
    let manifests: Vec<_> = (0..300).map(|n| receipt_manifest(n, &statement)).collect();
    let h = receipts_registry(&image, manifests, (0..300).collect(), statement);
    let mut examined = 0;
    let e = airlock::receipt::pull::pull_each(&client(&h), &repo(&h), &image, |_| {
        examined += 1;
        std::ops::ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(e.to_string().contains("more than 1073741824 bytes"), "{e}");
    assert_eq!(examined, 255);
}

#[test]
fn referrers_pages_are_refused_past_16_mib() {
    let subject = Digest::sha256(b"subject");
    let h = Hostile::start(move |_, n| {
        let fat = serde_json::json!({
            "mediaType": model::OCI_MANIFEST,
            "digest": Digest::sha256(n.to_string().as_bytes()).to_string(),
            "size": 100,
            "annotations": {"pad": "x".repeat(3 << 20)},
        });
        let next = format!("</v2/app/referrers/x?page={}>; rel=\"next\"", n + 1);
        Reply::with(
            200,
            &[("Content-Type", INDEX), ("Link", &next)],
            index_of(&[fat]),
        )
    });
    let e = client(&h).referrers(&repo(&h), &subject, None).unwrap_err();
    assert!(e.to_string().contains("16777216 bytes"), "{e}");
    assert_eq!(h.seen().len(), 6, "six pages of 3 MiB pass 16 MiB");
}

/// A TLS server on `127.0.0.2` (a name airlock reaches over HTTPS) that answers every request
/// with `reply`; returns its `host:port` and the CA file that vouches for it.
fn tls_server(dir: &std::path::Path, reply: String) -> (String, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use std::io::{Read, Write};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.2".to_owned()])
        .unwrap()
        .signed_by(&key, &Issuer::from_params(&ca, &ca_key))
        .unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let reply = reply.clone();
            std::thread::spawn(move || {
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = tls.write_all(reply.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (host, ca_file)
}

/// A registry reached over HTTPS that redirects to plain HTTP is not followed: the request (its
/// credentials included, which reqwest keeps on a redirect to the same host and port whatever the
/// scheme) would travel in clear text.
#[test]
fn a_redirect_from_https_to_plain_http_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let plain = Hostile::start(|_, _| Reply::ok("{}"));
    let reply = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {}/v2/airlock/sample/blobs/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        plain.url()
    );
    let (host, ca_file) = tls_server(t.path(), reply);
    let c = Registry::new(airlock::registry::Options {
        ca_file: Some(ca_file),
        retries: 1,
        timeout: Some(Duration::from_secs(5)),
        ..airlock::registry::Options::default()
    })
    .unwrap();
    let r = Reference::parse(&format!("{host}/airlock/sample:1.0")).unwrap();
    let body = data(700);
    let e = c
        .blob_to(&r, &blob_desc(&body), &mut Vec::new())
        .unwrap_err();
    assert!(e.to_string().contains("plain HTTP"), "{e}");
    assert!(
        plain.seen().is_empty(),
        "the HTTPS request was redirected to plain HTTP: {:?}",
        plain.seen()
    );
}
