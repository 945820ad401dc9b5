//! Shared helpers: run the binary, build fixtures and tarballs, read the corpus in place.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use airlock::fixture::{generate, Spec};
use serde_json::Value;

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
}

/// Result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The failure codes of a JSON report.
    pub fn codes(&self) -> Vec<String> {
        codes_of(&self.json(), "failures")
    }
}

/// Whether the report's `key` list (`failures`, `warnings`) holds a finding `code` naming `digest`.
pub fn has_finding(report: &Value, key: &str, code: &str, digest: &str) -> bool {
    report[key]
        .as_array()
        .is_some_and(|l| l.iter().any(|f| f["code"] == code && f["digest"] == digest))
}

pub fn codes_of(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs airlock with `args` in the working directory `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    finish(
        bin()
            .current_dir(cwd)
            .args(args)
            .output()
            .expect("run airlock"),
    )
}

/// The export time the tests pin (`SOURCE_DATE_EPOCH`): 2026-06-01T00:00:00Z.
pub const EPOCH: &str = "1780272000";

/// Runs airlock with `args` in `cwd`, with `SOURCE_DATE_EPOCH` pinned (reproducible exports).
pub fn run_pinned(cwd: &Path, args: &[&str]) -> Run {
    finish(
        bin()
            .current_dir(cwd)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .args(args)
            .output()
            .expect("run airlock"),
    )
}

/// A path as an argument.
pub fn arg(p: &Path) -> String {
    p.display().to_string()
}

/// Runs airlock with `args`, feeding `stdin`.
pub fn run_stdin(cwd: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = bin()
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn airlock");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    finish(out)
}

/// `verify BUNDLE --integrity-only --format json`, run from an empty working directory that must
/// still be empty afterwards (nothing is ever extracted).
pub fn verify_json(bundle: &Path, extra: &[&str]) -> Run {
    verify_in_empty_dir(bundle, &["--integrity-only"], extra)
}

/// `verify BUNDLE --format json EXTRA...` (the caller gives the trust options), from an empty
/// working directory that must stay empty.
pub fn verify_trust(bundle: &Path, extra: &[&str]) -> Run {
    verify_in_empty_dir(bundle, &[], extra)
}

/// `verify BUNDLE MODE... --format json --no-progress EXTRA...` from an empty working directory
/// that must still be empty afterwards.
fn verify_in_empty_dir(bundle: &Path, mode: &[&str], extra: &[&str]) -> Run {
    let cwd = tempfile::tempdir().expect("tempdir");
    let b = bundle.to_str().expect("utf-8 path");
    let mut args = vec!["verify", b];
    args.extend_from_slice(mode);
    args.extend_from_slice(&["--format", "json", "--no-progress"]);
    args.extend_from_slice(extra);
    let r = run_in(cwd.path(), &args);
    let left: Vec<_> = fs::read_dir(cwd.path()).expect("read cwd").collect();
    assert!(
        left.is_empty(),
        "verify wrote into its working directory: {left:?}"
    );
    r
}

/// `skopeo --insecure-policy copy --preserve-digests --all FROM TO`, which must succeed.
pub fn skopeo_copy(from: &str, to: &str) {
    let out = Command::new("skopeo")
        .args([
            "--insecure-policy",
            "copy",
            "--preserve-digests",
            "--all",
            from,
            to,
        ])
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy {from} {to}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The parts of a fixture layout a test aims at: the top-level index (first `index.json` entry),
/// its first platform manifest, that manifest's config and first layer.
pub struct Parts {
    /// `index.json`.
    pub index: Value,
    /// The top-level index's digest.
    pub top: String,
    /// The first platform manifest's digest.
    pub manifest: String,
    /// Its config's digest.
    pub config: String,
    /// Its first layer's digest.
    pub layer: String,
    /// That layer's size.
    pub layer_size: u64,
}

/// Reads the [`Parts`] of the layout at `root`.
pub fn parts(root: &Path) -> Parts {
    let index = read_json(&root.join("index.json"));
    let top = index["manifests"][0]["digest"]
        .as_str()
        .expect("top")
        .to_owned();
    let top_doc = read_json(&blob(root, &top));
    let manifest = top_doc["manifests"][0]["digest"]
        .as_str()
        .expect("manifest")
        .to_owned();
    let m = read_json(&blob(root, &manifest));
    Parts {
        index,
        top,
        manifest,
        config: m["config"]["digest"].as_str().expect("config").to_owned(),
        layer: m["layers"][0]["digest"].as_str().expect("layer").to_owned(),
        layer_size: m["layers"][0]["size"].as_u64().expect("layer size"),
    }
}

/// A small deterministic layout (two platforms, two 4 KiB layers each, one referrer).
pub fn small_layout(dir: &Path) -> PathBuf {
    let root = dir.join("layout");
    generate(
        &root,
        &Spec {
            layer_size: 4096,
            ..Spec::default()
        },
    )
    .expect("generate fixture");
    root
}

/// Compression of a test tarball.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Dir,
    Tar,
    TarGz,
    TarZst,
}

pub const FORMS: [Form; 4] = [Form::Dir, Form::Tar, Form::TarGz, Form::TarZst];

/// Every regular file under `root`, relative and sorted, `oci-layout` first and `index.json` last
/// when present (whatever the directory holds, so broken layouts can be packed too).
pub fn files_of(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort_by_key(|n| (n != "oci-layout", n == "index.json", n.clone()));
    names
}

/// Packs the directory as-is into a tarball of the given form; returns the bundle path.
pub fn pack(root: &Path, form: Form) -> PathBuf {
    if form == Form::Dir {
        return root.to_path_buf();
    }
    let ext = match form {
        Form::Tar => "tar",
        Form::TarGz => "tar.gz",
        Form::TarZst => "tar.zst",
        Form::Dir => unreachable!(),
    };
    let out = root.with_extension(ext);
    let mut raw = Vec::new();
    {
        let mut b = tar::Builder::new(&mut raw);
        for name in files_of(root) {
            let data = fs::read(root.join(&name)).unwrap();
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            b.append_data(&mut h, &name, &data[..]).unwrap();
        }
        b.finish().unwrap();
    }
    write_compressed(&out, &raw, form);
    out
}

/// Writes raw tar bytes compressed as `form` (Tar: as is).
pub fn write_compressed(out: &Path, raw: &[u8], form: Form) {
    let bytes = match form {
        Form::TarGz => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(raw).unwrap();
            e.finish().unwrap()
        }
        Form::TarZst => zstd::encode_all(raw, 3).unwrap(),
        _ => raw.to_vec(),
    };
    File::create(out).unwrap().write_all(&bytes).unwrap();
}

/// The corpus folder: `AIRLOCK_CORPUS`, else `../shared/corpus` beside the checkout.
pub use crate::testkit::corpus::corpus_dir;

/// True when the tests must not skip anything (CI sets `CI=true`).
pub fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether a command exists; in CI a missing tool is a test failure, elsewhere a skip.
pub fn have(tool: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(!strict(), "{tool} is required in CI (installed by .ci/run)");
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

/// Reads and parses a JSON file.
pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// Writes JSON to a file.
pub fn write_json(p: &Path, v: &Value) {
    fs::write(p, serde_json::to_vec(v).unwrap()).unwrap();
}

/// The blob path of a digest string.
pub fn blob(root: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap();
    root.join("blobs").join(alg).join(hex)
}

/// Runs `cmd` (output captured); panics, naming `what`, if it is still running after 60 s: for
/// tests whose failure would be a hang, so that a regression fails instead of waiting forever.
pub fn run_within_a_minute(mut cmd: Command, what: &str) -> Run {
    use std::time::{Duration, Instant};
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after 60 s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The carrier's move against a differential-bundle rule: deletes `layers` (digest, size) from the
/// layout directory `dir` and lists, first in its `index.json`, a trust artifact of its own (a
/// copy of the bundle's, whose export record says those layers were left out). Returns that
/// artifact's manifest digest.
pub fn plant_left_out_record(dir: &Path, layers: &[(&str, u64)]) -> String {
    plant_left_out_record_naming(dir, layers, &[])
}

/// [`plant_left_out_record`], the record naming `repositories` as holding each layer (where
/// import would mount it from).
pub fn plant_left_out_record_naming(
    dir: &Path,
    layers: &[(&str, u64)],
    repositories: &[&str],
) -> String {
    for (d, _) in layers {
        fs::remove_file(blob(dir, d)).unwrap();
    }
    let mut index = read_json(&dir.join("index.json"));
    let real = trust_artifact_entry(&index);
    let mut manifest = read_json(&blob(dir, real["digest"].as_str().unwrap()));
    let mut record = read_json(&blob(dir, manifest["config"]["digest"].as_str().unwrap()));
    record["leftOut"] = layers
        .iter()
        .map(|(d, size)| {
            serde_json::json!({
                "digest": d, "size": size, "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "images": ["x"], "repositories": repositories
            })
        })
        .collect();
    let put = |bytes: Vec<u8>| -> (String, usize) {
        let d = airlock::digest::Digest::sha256(&bytes).to_string();
        fs::write(blob(dir, &d), &bytes).unwrap();
        (d, bytes.len())
    };
    let (cd, cs) = put(serde_json::to_vec(&record).unwrap());
    manifest["config"]["digest"] = cd.into();
    manifest["config"]["size"] = cs.into();
    let (md, ms) = put(serde_json::to_vec(&manifest).unwrap());
    let mut fake = real.clone();
    fake["digest"] = md.clone().into();
    fake["size"] = ms.into();
    index["manifests"].as_array_mut().unwrap().insert(0, fake);
    write_json(&dir.join("index.json"), &index);
    md
}

/// The trust artifact's entry in a bundle's `index.json`.
pub fn trust_artifact_entry(index: &Value) -> Value {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["artifactType"] == "application/vnd.airlock.trust.v1+json")
        .unwrap()
        .clone()
}
