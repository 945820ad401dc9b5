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
            assert!(
                have("htpasswd"),
                "htpasswd (apache2-utils) is needed for the auth test"
            );
            let file = dir.path().join("htpasswd");
            let st = Command::new("htpasswd")
                .args(["-Bbc", file.to_str().unwrap(), user, pass])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(st.success());
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
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(reg);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not start on port {port}");
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
        let auth = base64_encode(format!("{u}:{p}").as_bytes());
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

pub fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
