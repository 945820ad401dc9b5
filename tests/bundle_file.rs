//! `airlock export --config airlock.toml`, `--lock` and `--locked` against the real registry:
//! the lock written, `--locked` passing while nothing changed and refusing (exit 1, nothing
//! written, each difference named) once the tag is moved or a referrer added; a bundle file with
//! an unknown field refused (exit 2, with its line); a required identity matched and mismatched.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::registry_util::*;

const E2E: &str = "valid-sig.strict.by-tag";
const SUBJECT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
/// The subject of the corpus signature's leaf certificate.
const LEAF: &str = "C=US, ST=WA, L=Seattle, O=Notary, CN=e2e";

/// The signed corpus image pushed as `e2e:v1` with its signature (referrers tag schema).
fn signed_registry() -> Option<(TestRegistry, std::path::PathBuf)> {
    let case = corpus_dir().join(E2E);
    if !case.exists() {
        assert!(!strict(), "corpus case {E2E} missing");
        return None;
    }
    let reg = TestRegistry::start(None)?;
    reg.push_layout(&case.join("layout"), "v1", "e2e", "v1", None);
    push_referrers(&reg, &case.join("layout"), SUBJECT, "e2e", None);
    Some((reg, case))
}

/// Copies the corpus trust material beside the bundle file (it names them relatively).
fn copy_trust(case: &Path, dir: &Path) {
    fs::copy(case.join("trustpolicy.json"), dir.join("trustpolicy.json")).unwrap();
    let store = dir.join("truststore/x509/ca/e2e");
    fs::create_dir_all(&store).unwrap();
    fs::copy(
        case.join("truststore/x509/ca/e2e/e2e.crt"),
        store.join("e2e.crt"),
    )
    .unwrap();
}

fn export(cwd: &Path, args: &[&str]) -> Run {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    run_pinned(cwd, &all)
}

#[test]
fn a_lock_is_written_and_locked_refuses_once_the_tag_moves_or_a_referrer_is_added() {
    let Some((reg, _)) = signed_registry() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    // The bundle file lives in its own folder; the run is elsewhere: paths are the file's.
    let conf = t.path().join("conf");
    let run = t.path().join("run");
    fs::create_dir_all(&conf).unwrap();
    fs::create_dir_all(&run).unwrap();
    let src = format!("{}/e2e:v1", reg.host());
    fs::write(
        conf.join("airlock.toml"),
        format!(
            "output = \"out/first.tar\"\n\n[registry]\nplain-http = [\"{}\"]\n\n[[image]]\nreference = \"{src}\"\nrequire-signature = true\n",
            reg.host()
        ),
    )
    .unwrap();
    let config = arg(&conf.join("airlock.toml"));
    let lock = arg(&run.join("airlock.lock"));
    let r = export(&run, &["--config", &config, "--lock", &lock]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(conf.join("out/first.tar").is_file(), "output is the file's");
    let l = read_json(&run.join("airlock.lock"));
    assert_eq!(l["lockVersion"], 1);
    assert_eq!(l["images"][0]["source"], src.as_str());
    assert_eq!(l["images"][0]["digest"], SUBJECT);
    let refs = l["images"][0]["referrers"].as_array().unwrap();
    assert_eq!(refs.len(), 1, "{l:#}");
    assert_eq!(refs[0]["subject"], SUBJECT);
    assert_eq!(
        refs[0]["artifactType"],
        "application/vnd.cncf.notary.signature"
    );
    let first = fs::read(run.join("airlock.lock")).unwrap();

    // Unchanged: --locked passes, and -o on the command line wins over the file's output.
    let second = run.join("second.tar");
    let r = export(
        &run,
        &[
            "--config",
            &config,
            "--lock",
            &lock,
            "--locked",
            "-o",
            &arg(&second),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(second.is_file());
    assert_eq!(
        fs::read(run.join("airlock.lock")).unwrap(),
        first,
        "--locked does not rewrite the lock"
    );
    // Written again without --locked: the same bytes (deterministic).
    let r = export(
        &run,
        &["--config", &config, "--lock", &lock, "-o", &arg(&second)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(fs::read(run.join("airlock.lock")).unwrap(), first);

    // A referrer added to the same digest: refused, the new referrer named, nothing written.
    let (client, _dir) = client_for(&reg.host(), None, std::time::Duration::from_secs(10), 1);
    let repo = airlock::registry::Reference::parse(&src).unwrap();
    let (top, _) = client.resolve(&repo).unwrap();
    let subject = serde_json::json!({
        "mediaType": top.media_type(),
        "digest": top.digest,
        "size": top.size,
    });
    let tag = format!("sha256-{}", SUBJECT.trim_start_matches("sha256:"));
    let (_, listed) = client.resolve(&repo.with_tag(&tag)).unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let others = listed["manifests"].as_array().unwrap().clone();
    let sig = push_signature(&client, &repo, &subject, &others);
    let third = run.join("third.tar");
    let r = export(
        &run,
        &[
            "--config",
            &config,
            "--lock",
            &lock,
            "--locked",
            "-o",
            &arg(&third),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let added = sig["digest"].as_str().unwrap();
    assert!(
        r.stderr.contains(&format!("referrer {added}")) && r.stderr.contains("is new"),
        "{}",
        r.stderr
    );
    assert!(!third.exists(), "nothing is written");

    // The tag moved (another image pushed to e2e:v1): refused, both digests named.
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "e2e",
        "v1",
        None,
    );
    let moved = read_json(&root.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = export(
        &run,
        &[
            "--config",
            &config,
            "--lock",
            &lock,
            "--locked",
            "-o",
            &arg(&third),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{src}: locked at {SUBJECT}, now resolves to {moved}"
        )),
        "{}",
        r.stderr
    );
    assert!(!third.exists(), "nothing is written");
    assert_eq!(fs::read(run.join("airlock.lock")).unwrap(), first);
}

#[test]
fn a_bundle_file_with_an_unknown_field_is_refused_with_its_line() {
    let t = tempfile::tempdir().unwrap();
    let conf = t.path().join("airlock.toml");
    fs::write(
        &conf,
        "output = \"x.tar\"\n\n[[image]]\nreference = \"oci:layout:v1\"\nplatform = [\"linux/amd64\"]\n",
    )
    .unwrap();
    let r = export(t.path(), &["--config", &arg(&conf)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 5"), "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown field `platform`"),
        "{}",
        r.stderr
    );
    assert!(!t.path().join("x.tar").exists());
    // --platform on the command line and platforms in the file: a conflict, said so.
    fs::write(
        &conf,
        "output = \"x.tar\"\nplatforms = [\"linux/amd64\"]\n[[image]]\nreference = \"oci:layout:v1\"\n",
    )
    .unwrap();
    let r = export(
        t.path(),
        &["--config", &arg(&conf), "--platform", "linux/arm64"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--platform conflicts with platforms"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_required_identity_is_matched_against_the_signature_leaf() {
    let Some((reg, case)) = signed_registry() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    copy_trust(&case, t.path());
    let src = format!("{}/e2e:v1", reg.host());
    let write = |identity: &str| {
        fs::write(
            t.path().join("airlock.toml"),
            format!(
                "[trust]\npolicy = \"trustpolicy.json\"\nstore = \"truststore\"\n\n[registry]\nplain-http = [\"{}\"]\n\n[[image]]\nreference = \"{src}\"\nidentity = \"{identity}\"\n",
                reg.host()
            ),
        )
        .unwrap();
    };
    let config = arg(&t.path().join("airlock.toml"));
    write(LEAF);
    let ok = t.path().join("ok.tar");
    let r = export(t.path(), &["--config", &config, "-o", &arg(&ok)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("--pin sha256:"),
        "verified and pinned: {}",
        r.stderr
    );
    let pin = r
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("--pin "))
        .unwrap()
        .to_owned();
    let v = verify_trust(&ok, &["--pin", &pin]);
    assert_eq!(v.code, 0, "{}", v.stdout);

    // A subset of the leaf's subject matches too (the notary rule: every attribute given).
    write("C=US, ST=WA, O=Notary");
    let r = export(t.path(), &["--config", &config, "-o", &arg(&ok)]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    write("C=US, ST=WA, L=Seattle, O=Notary, CN=someone-else");
    let bad = t.path().join("bad.tar");
    let r = export(t.path(), &["--config", &config, "-o", &arg(&bad)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("CN=someone-else") && r.stderr.contains("CN=e2e"),
        "the identity wanted and the leaf seen are named: {}",
        r.stderr
    );
    assert!(!bad.exists(), "nothing is written");

    // An identity without trust material is refused (exit 2): it is checked on verified
    // signatures only.
    fs::write(
        t.path().join("airlock.toml"),
        format!("[[image]]\nreference = \"{src}\"\nidentity = \"{LEAF}\"\n"),
    )
    .unwrap();
    let r = export(
        t.path(),
        &[
            "--config",
            &config,
            "-o",
            &arg(&bad),
            "--plain-http",
            &reg.host(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("trust material"), "{}", r.stderr);
}

#[test]
fn per_image_platforms_and_referrers_shape_the_export_and_the_lock() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let index = read_json(&root.join("index.json"));
    let top = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let conf = t.path().join("airlock.toml");
    let write = |image: &str| {
        fs::write(
            &conf,
            format!(
                "output = \"out.tar\"\n[[image]]\nreference = \"oci:layout:registry.example/airlock/sample:1.0\"\n{image}"
            ),
        )
        .unwrap()
    };
    let lock = arg(&t.path().join("airlock.lock"));
    write("platforms = [\"linux/arm64\"]\n");
    let r = export(
        t.path(),
        &["--config", &arg(&conf), "--lock", &lock, "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        j["images"][0]["platforms"],
        serde_json::json!(["linux/arm64"])
    );
    assert_eq!(j["images"][0]["excluded"].as_array().unwrap().len(), 1);
    let l = read_json(&t.path().join("airlock.lock"));
    assert_eq!(l["images"][0]["digest"], top.as_str());
    assert_eq!(l["images"][0]["manifests"].as_array().unwrap().len(), 1);
    let refs = l["images"][0]["referrers"].as_array().unwrap();
    assert_eq!(refs.len(), 1, "{l:#}");
    assert_eq!(refs[0]["subject"], top.as_str());

    // referrers = "none": none locked; --locked against the previous lock names the one gone.
    write("platforms = [\"linux/arm64\"]\nreferrers = \"none\"\n");
    let r = export(
        t.path(),
        &["--config", &arg(&conf), "--lock", &lock, "--locked"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "referrer {} ({}) of {top} is in the lock and no longer there",
            refs[0]["digest"].as_str().unwrap(),
            refs[0]["artifactType"].as_str().unwrap()
        )),
        "{}",
        r.stderr
    );
    // Both platforms now: the platform manifest added is named.
    write("");
    let r = export(
        t.path(),
        &["--config", &arg(&conf), "--lock", &lock, "--locked"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("platform manifest sha256:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("is new"), "{}", r.stderr);

    // A required signature among referrers that select none: refused, exit 1.
    write("referrers = [\"application/vnd.cncf.notary.signature\"]\nrequire-signature = true\n");
    fs::remove_file(t.path().join("out.tar")).unwrap();
    let r = export(t.path(), &["--config", &arg(&conf)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no notation signature"), "{}", r.stderr);
    assert!(!t.path().join("out.tar").exists(), "nothing is written");
}

/// Pushes a signature manifest of `subject` whose envelope is the corpus one with another
/// certificate chain in `x5c` (so its signature does not verify), listed in the referrers tag
/// index beside what is there. Returns its manifest digest.
fn push_forged(reg: &TestRegistry, case: &Path, src: &str, chain: &[Vec<u8>]) -> String {
    use airlock::digest::Digest;
    use airlock::layout::model::Descriptor;
    let (client, _dir) = client_for(&reg.host(), None, std::time::Duration::from_secs(10), 1);
    let repo = airlock::registry::Reference::parse(src).unwrap();
    let layout = case.join("layout");
    let index = read_json(&layout.join("index.json"));
    let sig = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| read_json(&blob(&layout, e["digest"].as_str().unwrap())))
        .find(|m| m["subject"]["digest"] == SUBJECT)
        .unwrap();
    let mut envelope = read_json(&blob(&layout, sig["layers"][0]["digest"].as_str().unwrap()));
    envelope["header"]["x5c"] = chain
        .iter()
        .map(|c| serde_json::json!(crate::testkit::b64::encode(c)))
        .collect();
    let bytes = serde_json::to_vec(&envelope).unwrap();
    let desc: Descriptor = serde_json::from_value(serde_json::json!({
        "digest": Digest::sha256(&bytes).to_string(),
        "size": bytes.len(),
    }))
    .unwrap();
    client
        .push_blob(&repo, &desc, Box::new(std::io::Cursor::new(bytes.clone())))
        .unwrap();
    let mut manifest = sig.clone();
    manifest["layers"][0]["digest"] = serde_json::json!(desc.digest);
    manifest["layers"][0]["size"] = serde_json::json!(bytes.len());
    let mbytes = serde_json::to_vec(&manifest).unwrap();
    let d = Digest::sha256(&mbytes);
    client
        .push_manifest(
            &repo.with_digest(&d),
            "application/vnd.oci.image.manifest.v1+json",
            &mbytes,
        )
        .unwrap();
    let tag = format!("sha256-{}", SUBJECT.trim_start_matches("sha256:"));
    let (_, listed) = client.resolve(&repo.with_tag(&tag)).unwrap();
    let mut listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let mut entry = listed["manifests"][0].clone();
    entry["digest"] = serde_json::json!(d.to_string());
    entry["size"] = serde_json::json!(mbytes.len());
    listed["manifests"].as_array_mut().unwrap().push(entry);
    client
        .push_manifest(
            &repo.with_tag(&tag),
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&listed).unwrap(),
        )
        .unwrap();
    d.to_string()
}

/// The identity must be on a signature that verifies: a forged envelope carrying a certificate
/// with the wanted subject (its signature cannot verify) does not satisfy it, even though the
/// image itself verifies through its genuine signature.
#[test]
fn an_identity_on_a_signature_that_does_not_verify_is_refused() {
    let Some((reg, case)) = signed_registry() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    copy_trust(&case, t.path());
    let src = format!("{}/e2e:v1", reg.host());
    let chain = crate::pki::chain(crate::pki::Alg::P256, &[], crate::pki::Alg::P256, 41);
    let forged = push_forged(&reg, &case, &src, &chain.certs);
    let wanted = format!("C=US, ST=WA, O=airlock tests, CN={}", chain.leaf_cn);
    let conf = t.path().join("airlock.toml");
    let write = |identity: &str| {
        fs::write(
            &conf,
            format!(
                "output = \"out.tar\"\n[trust]\npolicy = \"trustpolicy.json\"\nstore = \"truststore\"\n[registry]\nplain-http = [\"{}\"]\n[[image]]\nreference = \"{src}\"\nidentity = \"{identity}\"\n",
                reg.host()
            ),
        )
        .unwrap()
    };
    // With the genuine signer's identity the export passes (the forged signature is carried, reported).
    write(LEAF);
    let r = export(t.path(), &["--config", &arg(&conf), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.json()["images"][0]["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == forged.as_str()),
        "the forged signature is carried: {}",
        r.stdout
    );
    fs::remove_file(t.path().join("out.tar")).unwrap();
    write(&wanted);
    let r = export(t.path(), &["--config", &arg(&conf)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("trusted_identity"), "{}", r.stderr);
    assert!(r.stderr.contains(&wanted), "{}", r.stderr);
    assert!(!t.path().join("out.tar").exists(), "nothing is written");
}

/// A read-only proxy in front of the real test registry (an in-process [`Hostile`] server that
/// forwards every request): a manifest request for `path` is answered, once [`Moving::arm`]ed,
/// with `early` for the first `hits` requests and with `late` for every later one. A tag moved
/// (or a referrers tag index rewritten) upstream between two reads of one export.
struct Moving {
    proxy: Hostile,
    script: std::sync::Arc<std::sync::Mutex<Option<(usize, String, String)>>>,
}

impl Moving {
    fn start(upstream: String, path: String) -> Self {
        let script: std::sync::Arc<std::sync::Mutex<Option<(usize, String, String)>>> =
            std::sync::Arc::default();
        let s = script.clone();
        let proxy = Hostile::start(move |req, _| {
            let mut asked = req.path.clone();
            if asked == path {
                if let Some((hits, early, late)) = s.lock().unwrap().as_mut() {
                    if *hits > 0 {
                        *hits -= 1;
                        asked = early.clone();
                    } else {
                        asked = late.clone();
                    }
                }
            }
            forward(&upstream, &asked, req.header("Accept"))
        });
        Moving { proxy, script }
    }

    fn arm(&self, hits: usize, early: &str, late: &str) {
        *self.script.lock().unwrap() = Some((hits, early.to_owned(), late.to_owned()));
    }
}

/// One GET to the registry (HTTP/1.0: answered with a length or by closing, never chunked; a
/// HEAD goes up as a GET, and the proxy answers it with the headers of the GET).
fn forward(upstream: &str, path: &str, accept: Option<&str>) -> Reply {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(upstream).unwrap();
    let mut req = format!("GET {path} HTTP/1.0\r\nHost: {upstream}\r\n");
    if let Some(a) = accept {
        req.push_str(&format!("Accept: {a}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    c.read_to_end(&mut all).unwrap();
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let keep = [
        "content-type",
        "docker-content-digest",
        "docker-distribution-api-version",
    ];
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| keep.iter().any(|h| k.eq_ignore_ascii_case(h)))
        .collect();
    Reply::Full {
        status,
        headers,
        body: all[end + 4..].to_vec(),
    }
}

/// An export of `e2e:v1` through a [`Moving`] proxy (not yet armed) for `path`, into `dir`, that
/// wrote its output and its lock: the proxy, the source, the output and lock paths, and both files
/// as they were, to compare with after a refused rerun.
type Locked = (Moving, String, PathBuf, PathBuf, Vec<u8>, Vec<u8>);

fn locked_through(reg: &TestRegistry, path: String, dir: &Path) -> Locked {
    let m = Moving::start(reg.host(), path);
    let src = format!("{}/e2e:v1", m.proxy.host);
    let out = dir.join("app.tar");
    let lock = dir.join("app.lock");
    let r = export(dir, &[&src, "-o", &arg(&out), "--lock", &arg(&lock)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (before, locked) = (fs::read(&out).unwrap(), fs::read(&lock).unwrap());
    (m, src, out, lock, before, locked)
}

#[test]
fn a_tag_moved_after_the_lock_check_is_refused_and_the_previous_output_kept() {
    let Some((reg, _)) = signed_registry() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "e2e",
        "v2",
        None,
    );
    let moved = read_json(&root.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let (m, src, out, lock, before, locked) =
        locked_through(&reg, "/v2/e2e/manifests/v1".into(), t.path());
    let listing = |dir: &Path| {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let files = listing(t.path());

    // The lock check reads v1; the export's own resolution reads what v1 names by then (v2).
    for locked_run in [true, false] {
        m.arm(1, "/v2/e2e/manifests/v1", "/v2/e2e/manifests/v2");
        let mut args = vec![src.as_str(), "-o", out.to_str().unwrap()];
        args.extend(["--lock", lock.to_str().unwrap()]);
        if locked_run {
            args.push("--locked");
        }
        let r = export(t.path(), &args);
        assert_eq!(r.code, 1, "--locked {locked_run}: {}", r.stderr);
        assert!(
            r.stderr.contains("a source changed while it was exported")
                && r.stderr.contains(&format!(
                    "{src}: locked at {SUBJECT}, now resolves to {moved}"
                )),
            "{}",
            r.stderr
        );
        assert_eq!(
            fs::read(&out).unwrap(),
            before,
            "the previous output is kept"
        );
        assert_eq!(
            fs::read(&lock).unwrap(),
            locked,
            "the lock is not rewritten"
        );
        assert_eq!(listing(t.path()), files, "nothing is left beside them");
    }
}

#[test]
fn a_referrer_pushed_after_the_lock_check_is_refused_and_the_previous_output_kept() {
    let Some((reg, _)) = signed_registry() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let tag = format!("sha256-{}", SUBJECT.trim_start_matches("sha256:"));
    let (m, src, out, lock, before, locked) =
        locked_through(&reg, format!("/v2/e2e/manifests/{tag}"), t.path());

    // The referrers tag index as the lock saw it, kept under another tag; then a referrer pushed.
    let (client, _dir) = client_for(&reg.host(), None, std::time::Duration::from_secs(10), 1);
    let repo = airlock::registry::Reference::parse(&format!("{}/e2e:v1", reg.host())).unwrap();
    let (top, _) = client.resolve(&repo).unwrap();
    let (_, listed) = client.resolve(&repo.with_tag(&tag)).unwrap();
    client
        .push_manifest(
            &repo.with_tag("was"),
            "application/vnd.oci.image.index.v1+json",
            &listed,
        )
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let subject = serde_json::json!({
        "mediaType": top.media_type(),
        "digest": top.digest,
        "size": top.size,
    });
    let late = push_signature(
        &client,
        &repo,
        &subject,
        listed["manifests"].as_array().unwrap(),
    );
    let late = late["digest"].as_str().unwrap();

    // The lock check reads the index as it was; the export's own walk reads it with the new one.
    m.arm(
        1,
        "/v2/e2e/manifests/was",
        &format!("/v2/e2e/manifests/{tag}"),
    );
    let r = export(
        t.path(),
        &[&src, "-o", &arg(&out), "--lock", &arg(&lock), "--locked"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("a source changed while it was exported")
            && r.stderr.contains(&format!("referrer {late}"))
            && r.stderr.contains("is new"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("matched the lock"), "{}", r.stderr);
    assert_eq!(
        fs::read(&out).unwrap(),
        before,
        "the previous output is kept"
    );
    assert_eq!(fs::read(&lock).unwrap(), locked);

    // With nothing moving, the lock (which never listed it) still refuses it: named the same way.
    let r = export(
        t.path(),
        &[&src, "-o", &arg(&out), "--lock", &arg(&lock), "--locked"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("referrer {late}")),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read(&out).unwrap(), before);
}
