//! `export --jobs N` against a real registry: the same bytes as one blob at a time, and a failure
//! in one worker leaves nothing that looks complete (nor any staging or spool), and a rerun
//! completes.

use std::fs;
use std::path::{Path, PathBuf};

use airlock::fixture::{generate, Spec};

use crate::common::*;
use crate::registry_util::TestRegistry;

/// A two-platform image of 3 layers of 300 kB each per platform: more blobs than workers, each
/// larger than what export keeps in memory, pushed to `app:1`.
fn pushed(reg: &TestRegistry, dir: &Path) -> PathBuf {
    let root = dir.join("layout");
    generate(
        &root,
        &Spec {
            layers: 3,
            // Incompressible layers over 1 MiB: the .tar.zst stores segments (raw zstd frames).
            layer_size: 1_200_000,
            ..Spec::default()
        },
    )
    .unwrap();
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "app",
        "1",
        None,
    );
    root
}

fn export(reg: &TestRegistry, cwd: &Path, out: &Path, jobs: &str) -> Run {
    run_pinned(
        cwd,
        &[
            "-q",
            "export",
            &format!("{}/app:1", reg.host()),
            "-o",
            &arg(out),
            "--plain-http",
            &reg.host(),
            "--jobs",
            jobs,
        ],
    )
}

/// Names in `dir` an export leaves only while it runs (or when it was killed).
fn staging_left(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [".airlock-partial", ".airlock-tmp", ".airlock-spool"]
                .iter()
                .any(|k| n.contains(k))
        })
        .collect()
}

#[test]
fn concurrent_exports_are_byte_identical_to_one_at_a_time() {
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = pushed(&reg, t.path());
    for ext in ["tar", "tar.zst"] {
        let one = t.path().join(format!("one.{ext}"));
        let r = export(&reg, t.path(), &one, "1");
        assert_eq!(r.code, 0, "{}", r.stderr);
        let want = fs::read(&one).unwrap();
        for jobs in ["2", "4", "16"] {
            let many = t.path().join(format!("many-{jobs}.{ext}"));
            let r = export(&reg, t.path(), &many, jobs);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(
                fs::read(&many).unwrap() == want,
                "--jobs {jobs} .{ext} differs from --jobs 1"
            );
        }
        assert_eq!(verify_json(&one, &[]).code, 0);
        assert!(
            staging_left(t.path()).is_empty(),
            "{:?}",
            staging_left(t.path())
        );
    }
    // The multi-threaded zstd stream, with its stored segments (frames of raw blocks between the
    // compressed ones), is one that the zstd command reads: the same tar.
    let packed = fs::read(t.path().join("one.tar.zst")).unwrap();
    let frames = packed
        .windows(4)
        .filter(|w| *w == [0x28, 0xb5, 0x2f, 0xfd])
        .count();
    assert!(frames >= 3, "{frames} zstd frames");
    if Path::new("/usr/bin/zstd").exists() {
        let o = std::process::Command::new("/usr/bin/zstd")
            .arg("-dc")
            .arg(t.path().join("one.tar.zst"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout == fs::read(t.path().join("one.tar")).unwrap());
    }
    // Directories: the same files, whatever the number of workers.
    let d1 = t.path().join("d1");
    let d4 = t.path().join("d4");
    assert_eq!(export(&reg, t.path(), &d1, "1").code, 0);
    let r = export(&reg, t.path(), &d4, "4");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(files_of(&d1), files_of(&d4));
    for f in files_of(&d1) {
        assert!(
            fs::read(d1.join(&f)).unwrap() == fs::read(d4.join(&f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(verify_json(&d4, &[]).code, 0);
    // Every layer of every platform came through.
    let top = read_json(&root.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    for m in read_json(&blob(&root, &top))["manifests"]
        .as_array()
        .unwrap()
    {
        let child = read_json(&blob(&root, m["digest"].as_str().unwrap()));
        for l in child["layers"].as_array().unwrap() {
            assert!(blob(&d4, l["digest"].as_str().unwrap()).exists());
        }
    }
}

#[test]
fn a_failing_blob_stops_a_concurrent_export_leaving_nothing_and_a_rerun_completes() {
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = pushed(&reg, t.path());
    let top = read_json(&root.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let child = read_json(&blob(&root, &top))["manifests"][1]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let layer = read_json(&blob(&root, &child))["layers"][1]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = reg.blob_file(&layer);
    let good = fs::read(&file).unwrap();
    let mut bad = good.clone();
    bad[150_000] ^= 1;
    fs::write(&file, &bad).unwrap();
    let outs = ["out.tar", "out.tar.zst", "out-dir"];
    for out in outs {
        let path = t.path().join(out);
        let r = export(&reg, t.path(), &path, "4");
        assert_eq!(r.code, 1, "{out}: a content mismatch: {}", r.stderr);
        assert!(r.stderr.contains(&layer[7..19]), "{out}: {}", r.stderr);
        assert!(!path.exists(), "{out}: a partial output looks complete");
        assert!(
            staging_left(t.path()).is_empty(),
            "{out}: {:?}",
            staging_left(t.path())
        );
    }
    // The registry serves the right bytes again: the same commands complete.
    fs::write(&file, &good).unwrap();
    for out in outs {
        let path = t.path().join(out);
        let r = export(&reg, t.path(), &path, "4");
        assert_eq!(r.code, 0, "{out}: {}", r.stderr);
        assert_eq!(verify_json(&path, &[]).code, 0, "{out}");
        assert!(staging_left(t.path()).is_empty());
    }
}
