//! A real registry for the tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, on a
//! free port, storage in a temporary folder, stopped when dropped.

#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

pub struct TestRegistry {
    child: Child,
    pub port: u16,
    pub storage: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestRegistry {
    /// `host:port`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts a registry; with `htpasswd` = Some((user, password)) it requires basic auth.
    /// `None` when `docker-registry` is missing outside CI.
    pub fn start(htpasswd: Option<(&str, &str)>) -> Option<Self> {
        if !have("docker-registry") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let storage = dir.path().join("data");
        let mut auth = String::new();
        if let Some((user, pass)) = htpasswd {
            let file = dir.path().join("htpasswd");
            write_htpasswd(&file, user, pass);
            auth = format!(
                "auth:\n  htpasswd:\n    realm: airlock-test\n    path: {}\n",
                file.display()
            );
        }
        let config = dir.path().join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
                storage.display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .args(["serve", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reg = TestRegistry {
            child,
            port,
            storage,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if answers_v2(port) {
                return Some(reg);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not answer /v2/ on port {port}");
    }

    /// Copies the image `tag` of a layout into `repo:dest_tag` with skopeo (digests preserved).
    pub fn push_layout(
        &self,
        layout: &Path,
        tag: &str,
        repo: &str,
        dest_tag: &str,
        creds: Option<&str>,
    ) {
        assert!(have("skopeo"), "skopeo is needed to push fixtures");
        let mut args = vec![
            "--insecure-policy".to_string(),
            "copy".into(),
            "-q".into(),
            "--preserve-digests".into(),
            "--all".into(),
            "--dest-tls-verify=false".into(),
        ];
        if let Some(c) = creds {
            args.push(format!("--dest-creds={c}"));
        }
        args.push(format!("oci:{}:{tag}", layout.display()));
        args.push(format!("docker://{}/{repo}:{dest_tag}", self.host()));
        let out = Command::new("skopeo").args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The file that holds a blob in the registry's storage.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

/// A bcrypt entry for `alice:s3cret` (`htpasswd -nbB alice s3cret`), used when apache2-utils'
/// `htpasswd` is not installed.
const ALICE_BCRYPT: &str = "alice:$2y$05$g4o.Q2BVch7Kcyj4ZXItH.xsCC0rR.M6/mApkpcsD/MIMzTAyi5Ae";

fn write_htpasswd(file: &Path, user: &str, pass: &str) {
    let generated = Command::new("htpasswd")
        .args(["-Bbc", file.to_str().unwrap(), user, pass])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !generated {
        assert!(
            (user, pass) == ("alice", "s3cret"),
            "without htpasswd (apache2-utils) only alice:s3cret has a precomputed bcrypt entry"
        );
        fs::write(file, format!("{ALICE_BCRYPT}\n")).unwrap();
    }
}

/// True once something on `port` answers `GET /v2/` with an HTTP status line (200, or 401 with
/// auth configured).
fn answers_v2(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok()
        && (head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.1 401"))
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pushes every referrer of `subject` listed in a layout's `index.json` (manifest and blobs) into
/// `repo`, and the `sha256-<hex>` referrers tag index that registries without the Referrers API
/// serve (distribution 2.8 has none).
pub fn push_referrers(
    reg: &TestRegistry,
    layout: &Path,
    subject: &str,
    repo: &str,
    creds: Option<(&str, &str)>,
) {
    use airlock::registry::{Options, Registry};
    let config = creds.map(|(u, p)| {
        let dir = tempfile::tempdir().unwrap();
        let auth = crate::testkit::b64::encode(format!("{u}:{p}").as_bytes());
        let path = dir.path().join("config.json");
        fs::write(
            &path,
            format!(
                "{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}",
                reg.host()
            ),
        )
        .unwrap();
        (dir, path)
    });
    let client = Registry::new(Options {
        plain_http: vec![reg.host()],
        registry_config: config.as_ref().map(|(_, p)| p.clone()),
        retries: 1,
        ..Options::default()
    })
    .unwrap();
    let index = read_json(&layout.join("index.json"));
    let mut listed = Vec::new();
    for e in index["manifests"].as_array().unwrap() {
        let d = e["digest"].as_str().unwrap();
        let m = read_json(&blob(layout, d));
        if m["subject"]["digest"] != subject {
            continue;
        }
        for b in std::iter::once(&m["config"]).chain(m["layers"].as_array().unwrap().iter()) {
            let bd = b["digest"].as_str().unwrap();
            let desc: airlock::layout::model::Descriptor =
                serde_json::from_value(b.clone()).unwrap();
            let r = Registry::parse(&format!("{}/{repo}", reg.host())).unwrap();
            client
                .push_blob(
                    &r,
                    &desc,
                    Box::new(fs::File::open(blob(layout, bd)).unwrap()),
                )
                .unwrap();
        }
        let bytes = fs::read(blob(layout, d)).unwrap();
        let r = Registry::parse(&format!("{}/{repo}@{d}", reg.host())).unwrap();
        client
            .push_manifest(&r, "application/vnd.oci.image.manifest.v1+json", &bytes)
            .unwrap();
        let mut entry = e.clone();
        entry["artifactType"] = m["artifactType"].as_str().map_or_else(
            || m["config"]["mediaType"].clone(),
            |t| serde_json::json!(t),
        );
        listed.push(entry);
    }
    let idx = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": listed});
    let tag = format!("sha256-{}", subject.trim_start_matches("sha256:"));
    let r = Registry::parse(&format!("{}/{repo}:{tag}", reg.host())).unwrap();
    client
        .push_manifest(
            &r,
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&idx).unwrap(),
        )
        .unwrap();
}

/// A client for a test registry; with `creds`, they come from a temporary docker `config.json`
/// (kept alive by the returned folder).
pub fn client_for(
    host: &str,
    creds: Option<(&str, &str)>,
    timeout: Duration,
    retries: u32,
) -> (airlock::registry::Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let auths = match creds {
        Some((u, p)) => format!(
            "{{\"{host}\":{{\"auth\":\"{}\"}}}}",
            crate::testkit::b64::encode(format!("{u}:{p}").as_bytes())
        ),
        None => "{}".to_owned(),
    };
    fs::write(&config, format!("{{\"auths\":{auths}}}")).unwrap();
    let reg = airlock::registry::Registry::new(airlock::registry::Options {
        plain_http: vec![host.to_owned()],
        ca_file: None,
        registry_config: Some(config),
        timeout: Some(timeout),
        retries,
        retry_budget: None,
        min_rate: None,
    })
    .unwrap();
    (reg, dir)
}

/// An anonymous plain-HTTP client for `host` with these clocks: the idle `timeout`, `retries` in
/// a row, the retry `budget`, and the minimum rate (`None`: the default). The folder holds its
/// empty docker config.
pub fn client_clocked(
    host: &str,
    timeout: Duration,
    retries: u32,
    budget: Duration,
    min_rate: Option<u64>,
) -> (airlock::registry::Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    fs::write(&config, "{}").unwrap();
    let reg = airlock::registry::Registry::new(airlock::registry::Options {
        plain_http: vec![host.to_owned()],
        registry_config: Some(config),
        timeout: Some(timeout),
        retries,
        retry_budget: Some(budget),
        min_rate,
        ..Default::default()
    })
    .unwrap();
    (reg, dir)
}

/// Pushes a notation-style signature of `subject` (`artifactType`
/// `application/vnd.cncf.notary.signature`, empty config, one `application/jose+json` layer, a
/// `subject`) by digest, then the `<alg>-<hex>` referrers tag index listing it beside `others`
/// (registries without the Referrers API, like distribution 2.8, are read through that tag).
/// Returns the signature manifest's descriptor as the tag index lists it.
pub fn push_signature(
    client: &airlock::registry::Registry,
    repo: &airlock::registry::Reference,
    subject: &serde_json::Value,
    others: &[serde_json::Value],
) -> serde_json::Value {
    use airlock::digest::Digest;
    use airlock::layout::model::Descriptor;
    let envelope = br#"{"payload":"e30","protected":"e30","signature":"AA"}"#;
    let empty = b"{}";
    for data in [&envelope[..], &empty[..]] {
        let desc: Descriptor = serde_json::from_value(serde_json::json!({
            "digest": Digest::sha256(data).to_string(),
            "size": data.len(),
        }))
        .unwrap();
        client
            .push_blob(repo, &desc, Box::new(std::io::Cursor::new(data.to_vec())))
            .unwrap();
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.notary.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": Digest::sha256(empty).to_string(), "size": 2},
        "layers": [{"mediaType": "application/jose+json", "digest": Digest::sha256(envelope).to_string(), "size": envelope.len()}],
        "subject": subject,
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let d = Digest::sha256(&bytes);
    client
        .push_manifest(
            &repo.with_digest(&d),
            "application/vnd.oci.image.manifest.v1+json",
            &bytes,
        )
        .unwrap();
    let entry = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": d.to_string(),
        "size": bytes.len(),
        "artifactType": "application/vnd.cncf.notary.signature",
    });
    let mut listed = others.to_vec();
    listed.push(entry.clone());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": listed,
    });
    let subject_digest = Digest::parse(subject["digest"].as_str().unwrap()).unwrap();
    let tag = format!("sha256-{}", subject_digest.hex());
    client
        .push_manifest(
            &repo.with_tag(&tag),
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    entry
}

/// One request as the hostile server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the hostile server does with one request.
pub enum Reply {
    /// A complete response (`Content-Length` set from the body).
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Announces `body.len()` bytes, sends the first `send`, then closes the connection.
    Cut {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        send: usize,
    },
    /// `status` without `Content-Length`: `total` bytes of spaces, delimited by closing the
    /// connection.
    Endless { status: u16, total: u64 },
    /// Reads the request and never answers.
    Stall,
    /// Sends the status line and headers (`Content-Length` of `len`), then stalls.
    StallBody { len: u64 },
    /// Sends the status line and headers (`Content-Length` of `body.len()`) and the first `send`
    /// bytes of `body`, then stalls.
    StallAfter { body: Vec<u8>, send: usize },
    /// Sends `status` and headers (`Content-Length` of `body.len()`), then `chunk` bytes of `body`
    /// every `every`: never silent, never done in reasonable time.
    Trickle {
        status: u16,
        body: Vec<u8>,
        chunk: usize,
        every: Duration,
    },
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply::Full {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Self {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        Reply::Full {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// A small in-process HTTP/1.1 server on 127.0.0.1 that answers each request with whatever the
/// test's handler says (the handler gets the request and its 0-based sequence number), one
/// connection per request (`Connection: close`). It plays the registry behaviours a real registry
/// cannot be made to produce.
pub struct Hostile {
    pub host: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Hostile {
    pub fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        use std::sync::atomic::AtomicBool;
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s3, stop3, h) = (s2.clone(), stop2.clone(), handler.clone());
                std::thread::spawn(move || serve(conn, &s3, &stop3, &*h));
            }
        });
        Hostile { host, seen, stop }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// `http://HOST`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(&self.host);
    }
}

fn read_request(conn: &mut std::net::TcpStream) -> Option<Seen> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 << 10 || conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn head(status: u16, headers: &[(String, String)], len: Option<u64>) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = len {
        h.push_str(&format!("Content-Length: {n}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

fn serve(
    mut conn: std::net::TcpStream,
    seen: &std::sync::Mutex<Vec<Seen>>,
    stop: &std::sync::atomic::AtomicBool,
    handler: &Handler,
) {
    use std::io::Write;
    let Some(req) = read_request(&mut conn) else {
        return;
    };
    let n = {
        let mut s = seen.lock().unwrap();
        s.push(req.clone());
        s.len() - 1
    };
    let stall = || {
        let until = Instant::now() + Duration::from_secs(30);
        while !stop.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let _ = match handler(&req, n) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut out = head(status, &headers, Some(body.len() as u64));
            if req.method != "HEAD" {
                out.extend_from_slice(&body);
            }
            conn.write_all(&out)
        }
        Reply::Cut {
            headers,
            body,
            send,
        } => {
            let mut out = head(200, &headers, Some(body.len() as u64));
            out.extend_from_slice(&body[..send]);
            conn.write_all(&out)
        }
        Reply::Endless { status, total } => {
            let chunk = vec![b' '; 64 << 10];
            let mut r = conn.write_all(&head(status, &[], None));
            let mut sent = 0u64;
            while r.is_ok() && sent < total {
                r = conn.write_all(&chunk);
                sent += chunk.len() as u64;
            }
            r
        }
        Reply::Stall => {
            stall();
            Ok(())
        }
        Reply::StallBody { len } => {
            let r = conn.write_all(&head(200, &[], Some(len)));
            stall();
            r
        }
        Reply::StallAfter { body, send } => {
            let mut out = head(200, &[], Some(body.len() as u64));
            out.extend_from_slice(&body[..send]);
            let r = conn.write_all(&out).and_then(|()| conn.flush());
            stall();
            r
        }
        Reply::Trickle {
            status,
            body,
            chunk,
            every,
        } => {
            let mut r = conn.write_all(&head(status, &[], Some(body.len() as u64)));
            for piece in body.chunks(chunk.max(1)) {
                if r.is_err() || stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(every);
                r = conn.write_all(piece).and_then(|()| conn.flush());
            }
            r
        }
    };
    let _ = conn.flush();
}
