//! Lying local sources (issue 9, items 5 to 8): FIFOs and symbolic links in an `oci:` export source,
//! blobs and `index.json` far larger than their descriptors or caps (sparse files, never real
//! gigabytes), and `inspect`'s exit status when it prints failures.
//!
//! The hang and slowness cases run the binary under a deadline (`run_deadline`), so that the bug
//! they guard against fails the test instead of hanging the suite.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// How long a run may take before it is killed and counted as hung.
const DEADLINE: Duration = Duration::from_secs(20);

/// The bound for "fails fast". Generous (the work is a few stat calls and some KiB of JSON) only
/// because the machine is shared; the bugs it guards against take minutes.
const FAST: Duration = Duration::from_secs(10);

/// A 100 GiB sparse blob: no disk space used, but minutes to read.
const HUGE: u64 = 100 << 30;

/// Runs airlock in `cwd` with a deadline: returns the run and how long it took; a run still going
/// at the deadline is killed and fails the test.
fn run_deadline(cwd: &Path, args: &[&str]) -> (Run, Duration) {
    let out = tempfile::tempdir().unwrap();
    let (so, se) = (out.path().join("stdout"), out.path().join("stderr"));
    let start = Instant::now();
    let mut child = bin()
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&so).unwrap())
        .stderr(File::create(&se).unwrap())
        .spawn()
        .expect("spawn airlock");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "airlock {args:?} still running after {DEADLINE:?} (killed); stderr so far:\n{}",
                fs::read_to_string(&se).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = start.elapsed();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: fs::read_to_string(&so).unwrap(),
        stderr: fs::read_to_string(&se).unwrap(),
    };
    (run, took)
}

fn mkfifo(path: &Path) {
    let _ = fs::remove_file(path);
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// Grows `path` to `len` bytes without writing them (a sparse file).
fn sparse(path: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Every file under `dir` (hidden staging files included) with its size.
fn files_with_sizes(dir: &Path) -> Vec<(PathBuf, u64)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), e.metadata().unwrap().len()))
        .collect()
}

/// `export oci:LAYOUT -o OUT` for a directory and a tar output, each from a fresh folder; checks
/// each run finished within `FAST` with `want` and left nothing at `-o`; returns the runs.
fn export_each_form(root: &Path, want: i32) -> Vec<Run> {
    let mut runs = Vec::new();
    for out in ["bundle", "bundle.tar"] {
        let dest = tempfile::tempdir().unwrap();
        let o = dest.path().join(out);
        let (r, took) = run_deadline(
            dest.path(),
            &[
                "export",
                &format!("oci:{}", arg(root)),
                "-o",
                &arg(&o),
                "--no-progress",
            ],
        );
        assert_eq!(r.code, want, "-o {out}: {}", r.stderr);
        assert!(took < FAST, "-o {out}: took {took:?}");
        assert!(
            !o.exists(),
            "-o {out}: something was written at {}",
            o.display()
        );
        // Whatever staging the sink keeps (its own business) holds no more than a few KiB.
        let big: Vec<_> = files_with_sizes(dest.path())
            .into_iter()
            .filter(|(_, n)| *n > 1 << 20)
            .collect();
        assert!(big.is_empty(), "-o {out}: large files left: {big:?}");
        runs.push(r);
    }
    runs
}

/// Item 5: a FIFO blob in an `oci:` source used to hang export forever (in open(2)).
#[test]
fn local_fifo_blob_or_index_json_is_refused_at_once() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let p = parts(&root);
    for (what, path) in [
        ("layer", blob(&root, &p.layer)),
        ("config", blob(&root, &p.config)),
        ("index", blob(&root, &p.top)),
        ("index.json", root.join("index.json")),
    ] {
        let saved = t.path().join("saved");
        fs::copy(&path, &saved).unwrap();
        mkfifo(&path);
        for r in export_each_form(&root, 2) {
            assert!(
                r.stderr.contains("not a regular file"),
                "{what}: {}",
                r.stderr
            );
        }
        fs::remove_file(&path).unwrap();
        fs::rename(&saved, &path).unwrap();
    }
}

/// Item 5: a symbolic link inside the source layout is refused, even one to the right bytes outside
/// it (export used to follow it and succeed); verify refuses the same layout.
#[test]
fn local_symlinked_blob_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let p = parts(&root);
    let target = blob(&root, &p.layer);
    let outside = t.path().join("outside");
    fs::rename(&target, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &target).unwrap();
    for r in export_each_form(&root, 2) {
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    }
    // The same for a symlinked blobs/sha256 directory and a symlinked index.json.
    fs::remove_file(&target).unwrap();
    fs::rename(&outside, &target).unwrap();
    let alg = root.join("blobs/sha256");
    let moved = t.path().join("sha256");
    fs::rename(&alg, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &alg).unwrap();
    for r in export_each_form(&root, 2) {
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    }
    fs::remove_file(&alg).unwrap();
    fs::rename(&moved, &alg).unwrap();
    let index = root.join("index.json");
    let moved = t.path().join("index.json");
    fs::rename(&index, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &index).unwrap();
    for r in export_each_form(&root, 2) {
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    }
}

/// Item 6: a 100 GiB sparse layer whose descriptor says 4 KiB fails before a byte of it is copied
/// (export used to copy it all into the staging file before the size check).
#[test]
fn local_blob_larger_than_its_descriptor_fails_before_copying() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let p = parts(&root);
    sparse(&blob(&root, &p.layer), HUGE);
    for r in export_each_form(&root, 1) {
        for part in [
            p.layer.clone(),
            HUGE.to_string(),
            p.layer_size.to_string(),
            arg(&blob(&root, &p.layer)),
        ] {
            assert!(r.stderr.contains(&part), "no {part} in: {}", r.stderr);
        }
    }
}

/// Item 7: verify and inspect judge that blob by its size without reading it (verify used to hash
/// all 100 GiB, inspect to read them).
#[test]
fn local_stat_size_contradicting_the_descriptor_is_not_read() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let p = parts(&root);
    sparse(&blob(&root, &p.layer), HUGE);
    let cwd = tempfile::tempdir().unwrap();
    let (r, took) = run_deadline(
        cwd.path(),
        &[
            "verify",
            &arg(&root),
            "--integrity-only",
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert!(took < FAST, "verify took {took:?}");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    let f = j["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "size_mismatch")
        .unwrap_or_else(|| panic!("no size_mismatch in {j}"));
    assert_eq!(f["digest"], p.layer.as_str());
    assert!(j["blobs"]["failed"].as_u64().unwrap() >= 1, "{j}");

    let (r, took) = run_deadline(
        cwd.path(),
        &["inspect", &arg(&root), "--format", "json", "--no-progress"],
    );
    assert!(took < FAST, "inspect took {took:?}");
    assert!(r.stderr.contains("size_mismatch"), "{}", r.stderr);
    assert!(r.json()["problems"].as_u64().unwrap() >= 1);
}

/// Item 7: a 50 GiB `index.json` is refused by its size, not read whole first.
#[test]
fn local_huge_index_json_is_refused_by_its_size() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    sparse(&root.join("index.json"), 50 << 30);
    let cwd = tempfile::tempdir().unwrap();
    let (r, took) = run_deadline(
        cwd.path(),
        &[
            "verify",
            &arg(&root),
            "--integrity-only",
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert!(took < FAST, "verify took {took:?}");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.codes().contains(&"index_malformed".to_string()),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&(50u64 << 30).to_string()),
        "{}",
        r.stdout
    );
    let (r, took) = run_deadline(cwd.path(), &["inspect", &arg(&root), "--no-progress"]);
    assert!(took < FAST, "inspect took {took:?}");
    assert!(r.stderr.contains("index_malformed"), "{}", r.stderr);
    // The export source refuses it by its size too.
    export_each_form(&root, 2);
}

/// Item 8: inspect exits 1 whenever it prints failures, 0 on a good bundle.
#[test]
fn local_inspect_exits_1_when_it_prints_failures() {
    let inspect = |root: &Path| {
        let cwd = tempfile::tempdir().unwrap();
        let (r, _) = run_deadline(cwd.path(), &["inspect", &arg(root), "--no-progress"]);
        r
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let r = inspect(&root);
    assert_eq!(r.code, 0, "good layout: {}", r.stderr);
    assert!(!r.stderr.contains("FAIL"), "{}", r.stderr);

    let index = root.join("index.json");
    let saved = t.path().join("index.saved");
    fs::copy(&index, &saved).unwrap();
    let restore = || {
        let _ = fs::remove_file(&index);
        fs::copy(&saved, &index).unwrap();
    };
    // Empty index.json.
    fs::write(&index, b"").unwrap();
    let r = inspect(&root);
    assert_eq!(r.code, 1, "empty index.json: {}", r.stderr);
    assert!(r.stderr.contains("FAIL"), "{}", r.stderr);
    // A FIFO index.json.
    mkfifo(&index);
    let r = inspect(&root);
    assert_eq!(r.code, 1, "FIFO index.json: {}", r.stderr);
    assert!(r.stderr.contains("FAIL"), "{}", r.stderr);
    // A symlinked index.json (to the right bytes).
    fs::remove_file(&index).unwrap();
    std::os::unix::fs::symlink(&saved, &index).unwrap();
    let r = inspect(&root);
    assert_eq!(r.code, 1, "symlinked index.json: {}", r.stderr);
    assert!(r.stderr.contains("FAIL"), "{}", r.stderr);
    restore();
    assert_eq!(inspect(&root).code, 0);
    // A missing blob.
    let p = parts(&root);
    fs::remove_file(blob(&root, &p.config)).unwrap();
    let r = inspect(&root);
    assert_eq!(r.code, 1, "missing blob: {}", r.stderr);
    assert!(r.stderr.contains("blob_missing"), "{}", r.stderr);
}

/// A local source whose image index nests 20,000 indexes deep (each listing the one below) used to
/// overflow export's stack (abort, exit 134); 17 deep wrote a bundle its own verify refuses. Export
/// refuses past what verification accepts, before reading further: exit 2, nothing written.
#[test]
fn local_indexes_nested_without_end_are_refused_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let index_path = root.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    let mut inner = index["manifests"][0].clone();
    inner.as_object_mut().unwrap().remove("annotations");
    for _ in 0..20_000 {
        let wrapper = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [inner],
        }))
        .unwrap();
        let d = airlock::digest::Digest::sha256(&wrapper);
        fs::write(root.join(airlock::layout::blob_path(&d)), &wrapper).unwrap();
        inner = serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": d.to_string(),
            "size": wrapper.len(),
        });
    }
    inner["annotations"] = index["manifests"][0]["annotations"].clone();
    index["manifests"][0] = inner;
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    for r in export_each_form(&root, 2) {
        assert!(
            r.stderr.contains("indexes nested deeper than 16"),
            "{}",
            r.stderr
        );
    }
}
