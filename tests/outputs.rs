//! Outputs that never destroy what is there (issue 9): a failed or interrupted re-export leaves
//! the previous bundle whole and verifying under its name; outputs airlock did not write are
//! refused without --force; planted names are never written through; staging never leaks; one
//! export per output at a time; a closed stdout is an error.
//!
//! Slow exports come from an in-process registry that serves a real layout and stalls on one
//! layer, so a signal always lands mid-export without timing guesses.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::registry_util::{Hostile, Reply};

/// Names in `dir` other than `keep`.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    v.sort();
    v
}

fn export_layout(cwd: &Path, layout: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "-q".to_string(),
        "export".into(),
        format!("oci:{}", arg(layout)),
        "-o".into(),
        arg(out),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_pinned(cwd, &args)
}

/// A directory bundle exported from the small layout, and the verify report's bundle digest.
fn good_bundle(t: &Path) -> (PathBuf, PathBuf, String) {
    let layout = small_layout(t);
    let out = t.join("out");
    let r = export_layout(t, &layout, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verify_json(&out, &[]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let digest = v.json()["bundleDigest"].as_str().unwrap().to_owned();
    (layout, out, digest)
}

fn assert_intact(out: &Path, digest: &str) {
    let v = verify_json(out, &[]);
    assert_eq!(
        v.code, 0,
        "the previous bundle no longer verifies:\n{}",
        v.stdout
    );
    assert_eq!(v.json()["bundleDigest"], digest);
}

/// Serves `layout` as `HOST/airlock/sample:1.0`; GETs of `stall` send headers and then nothing.
fn serve(layout: &Path, stall: Option<String>) -> Hostile {
    let root = layout.to_path_buf();
    let index = read_json(&root.join("index.json"));
    let top = index["manifests"][0].clone();
    Hostile::start(move |req, _| {
        let path = req.path.split('?').next().unwrap_or("").to_owned();
        if path == "/v2/" {
            return Reply::ok(Vec::new());
        }
        let Some((_, rest)) = path.split_once("/airlock/sample/") else {
            return Reply::status(404);
        };
        let (kind, reference) = rest.split_once('/').unwrap_or(("", ""));
        let digest = if reference == "1.0" {
            top["digest"].as_str().unwrap().to_owned()
        } else if reference.starts_with("sha256:") {
            reference.to_owned()
        } else {
            return Reply::status(404);
        };
        let Ok(bytes) = fs::read(blob(&root, &digest)) else {
            return Reply::status(404);
        };
        if stall.as_deref() == Some(digest.as_str()) {
            return Reply::StallBody {
                len: bytes.len() as u64,
            };
        }
        match kind {
            "manifests" => {
                let mt = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let dg = digest.clone();
                Reply::with(
                    200,
                    &[
                        ("Content-Type", mt.as_str()),
                        ("Docker-Content-Digest", dg.as_str()),
                    ],
                    bytes,
                )
            }
            "blobs" => Reply::ok(bytes),
            _ => Reply::status(404),
        }
    })
}

/// Another small layout (other content, so nothing can be reused from the first bundle).
fn other_layout(t: &Path) -> PathBuf {
    let root = t.join("layout2");
    airlock::fixture::generate(
        &root,
        &airlock::fixture::Spec {
            layer_size: 4096,
            // Layers come from streams seed+1.., so this shares none with seed 1.
            seed: 100,
            ..Default::default()
        },
    )
    .unwrap();
    root
}

/// A layer digest of the small layout.
fn a_layer(layout: &Path) -> String {
    let index = read_json(&layout.join("index.json"));
    let top = read_json(&blob(
        layout,
        index["manifests"][0]["digest"].as_str().unwrap(),
    ));
    let m = read_json(&blob(
        layout,
        top["manifests"][0]["digest"].as_str().unwrap(),
    ));
    m["layers"][0]["digest"].as_str().unwrap().to_owned()
}

fn spawn_export(cwd: &Path, host: &str, out: &Path) -> Child {
    bin()
        .current_dir(cwd)
        .args([
            "-q",
            "export",
            &format!("{host}/airlock/sample:1.0"),
            "-o",
            &arg(out),
            "--plain-http",
            host,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until a staging name of `out` exists (the export is writing), at most 30 s.
fn wait_for_staging(dir: &Path, name: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if fs::read_dir(dir).unwrap().any(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.starts_with(&format!(".{name}.airlock-partial-"))
                || n.starts_with(&format!(".{name}.airlock-tmp-"))
        }) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the export never started writing");
}

fn wait(mut child: Child, limit: Duration) -> (i32, String) {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (st.code().unwrap_or(-1), err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the export did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(child: &Child, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn a_failing_re_export_leaves_the_previous_bundle_whole() {
    let t = tempfile::tempdir().unwrap();
    let (_, out, digest) = good_bundle(t.path());
    // Another source with a corrupt layer: the re-export fails after writing some blobs.
    let layout2 = other_layout(t.path());
    let layer = a_layer(&layout2);
    fs::write(blob(&layout2, &layer), b"corrupt").unwrap();
    let r = export_layout(t.path(), &layout2, &out, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_intact(&out, &digest);
    assert_eq!(
        leftovers(t.path(), &["out", "layout", "layout2"]),
        Vec::<String>::new()
    );
}

#[test]
fn signals_stop_a_re_export_cleanly_and_the_previous_bundle_stays() {
    for (sig, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let t = tempfile::tempdir().unwrap();
        let (_, out, digest) = good_bundle(t.path());
        let layout2 = other_layout(t.path());
        let h = serve(&layout2, Some(a_layer(&layout2)));
        let child = spawn_export(t.path(), &h.host, &out);
        wait_for_staging(t.path(), "out");
        // While the export runs, the previous bundle is there and verifies.
        assert_intact(&out, &digest);
        kill(&child, sig);
        let (got, stderr) = wait(child, Duration::from_secs(20));
        assert_eq!(got, code, "SIG{sig}: {stderr}");
        assert_intact(&out, &digest);
        assert_eq!(
            leftovers(t.path(), &["out", "layout", "layout2"]),
            Vec::<String>::new(),
            "SIG{sig}"
        );
    }
}

#[test]
fn after_sigkill_the_next_run_adopts_or_removes_the_stale_staging() {
    let t = tempfile::tempdir().unwrap();
    let (layout, out, digest) = good_bundle(t.path());
    let tarball = t.path().join("b.tar.zst");
    let layout2 = other_layout(t.path());
    let h = serve(&layout2, Some(a_layer(&layout2)));
    for target in [&out, &tarball] {
        let child = spawn_export(t.path(), &h.host, target);
        wait_for_staging(t.path(), &target.file_name().unwrap().to_string_lossy());
        kill(&child, "KILL");
        let _ = wait(child, Duration::from_secs(20));
    }
    assert_intact(&out, &digest);
    assert!(!tarball.exists());
    // The tarball's run may also have made its spool (`--jobs`) before it was killed.
    let left: Vec<String> = leftovers(t.path(), &["out", "layout", "layout2"])
        .into_iter()
        .filter(|n| !n.contains(".airlock-spool-"))
        .collect();
    assert_eq!(
        left.len(),
        4,
        "staging and lock files of the killed runs: {left:?}"
    );
    // The next runs clean up after the dead ones (the directory's partial staging is adopted and
    // its blobs re-hashed).
    assert_eq!(export_layout(t.path(), &layout, &out, &[]).code, 0);
    assert_eq!(export_layout(t.path(), &layout, &tarball, &[]).code, 0);
    assert_intact(&out, &digest);
    assert_eq!(verify_json(&tarball, &[]).code, 0);
    assert_eq!(
        leftovers(t.path(), &["out", "layout", "layout2", "b.tar.zst"]),
        Vec::<String>::new()
    );
}

#[test]
fn an_adopted_staging_directory_is_re_hashed() {
    let t = tempfile::tempdir().unwrap();
    let (layout, out, _) = good_bundle(t.path());
    // What a killed run leaves: a partial directory without index.json, one blob corrupt.
    let partial = t
        .path()
        .join(".again.airlock-partial-4194304-00000000deadbeef");
    fs::rename(&out, &partial).unwrap();
    fs::remove_file(partial.join("index.json")).unwrap();
    let victim = blob(&partial, &a_layer(&layout));
    fs::write(&victim, b"garbage").unwrap();
    let again = t.path().join("again");
    assert_eq!(export_layout(t.path(), &layout, &again, &[]).code, 0);
    let v = verify_json(&again, &[]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(v.json()["warnings"].as_array().unwrap().is_empty());
    assert_eq!(
        leftovers(t.path(), &["again", "layout"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_concurrent_verify_always_finds_a_complete_bundle() {
    let t = tempfile::tempdir().unwrap();
    let (layout, out, digest) = good_bundle(t.path());
    let child = bin()
        .current_dir(t.path())
        .args([
            "-q",
            "export",
            &format!("oci:{}", arg(&layout)),
            "-o",
            &arg(&out),
        ])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Some(child);
    let mut checks = 0;
    while let Some(c) = child.as_mut() {
        if c.try_wait().unwrap().is_some() {
            child = None;
        }
        assert_intact(&out, &digest);
        checks += 1;
    }
    assert!(checks > 0);
    assert_intact(&out, &digest);
}

#[test]
fn foreign_directories_and_files_are_refused_without_force() {
    let t = tempfile::tempdir().unwrap();
    let layout = small_layout(t.path());
    // An OCI layout airlock did not write (another image lives there).
    let foreign = t.path().join("foreign");
    airlock::fixture::generate(
        &foreign,
        &airlock::fixture::Spec {
            reference: "registry.example/other/thing:2".into(),
            seed: 5,
            layer_size: 1024,
            ..Default::default()
        },
    )
    .unwrap();
    let before = files_of(&foreign);
    let r = export_layout(t.path(), &layout, &foreign, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not a bundle airlock wrote"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(files_of(&foreign), before);
    // A directory with other files in it.
    let docs = t.path().join("docs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("notes.txt"), b"keep me").unwrap();
    assert_eq!(export_layout(t.path(), &layout, &docs, &[]).code, 2);
    assert_eq!(fs::read(docs.join("notes.txt")).unwrap(), b"keep me");
    // A regular file without a tar suffix.
    let file = t.path().join("bundle");
    fs::write(&file, b"precious").unwrap();
    let r = export_layout(t.path(), &layout, &file, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(fs::read(&file).unwrap(), b"precious");
    // A tarball name that is a directory: refused, and no staging is left.
    let dir_tar = t.path().join("y.tar");
    fs::create_dir(&dir_tar).unwrap();
    let r = export_layout(t.path(), &layout, &dir_tar, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        leftovers(t.path(), &["layout", "foreign", "docs", "bundle", "y.tar"]),
        Vec::<String>::new()
    );
    // --force replaces each whole, once the new bundle is complete.
    for target in [&foreign, &docs, &file, &dir_tar] {
        let r = export_layout(t.path(), &layout, target, &["--force"]);
        assert_eq!(r.code, 0, "{}: {}", target.display(), r.stderr);
        assert_eq!(verify_json(target, &[]).code, 0);
    }
    assert!(!docs.join("notes.txt").exists());
    // airlock's own bundle is replaced without --force, and so is an empty directory.
    assert_eq!(export_layout(t.path(), &layout, &foreign, &[]).code, 0);
    let empty = t.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_eq!(export_layout(t.path(), &layout, &empty, &[]).code, 0);
    assert_eq!(verify_json(&empty, &[]).code, 0);
}

#[test]
fn an_own_bundle_with_an_image_its_record_does_not_list_is_foreign() {
    let t = tempfile::tempdir().unwrap();
    let (_, out, _) = good_bundle(t.path());
    let layout2 = t.path().join("layout2");
    airlock::fixture::generate(
        &layout2,
        &airlock::fixture::Spec {
            reference: "registry.example/other/thing:2".into(),
            seed: 6,
            layer_size: 1024,
            referrer: false,
            ..Default::default()
        },
    )
    .unwrap();
    // Someone adds another image to the bundle by hand.
    let extra = read_json(&layout2.join("index.json"))["manifests"][0].clone();
    for e in fs::read_dir(layout2.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), out.join("blobs/sha256").join(e.file_name())).unwrap();
    }
    let mut idx = read_json(&out.join("index.json"));
    idx["manifests"].as_array_mut().unwrap().push(extra);
    write_json(&out.join("index.json"), &idx);
    let before = files_of(&out);
    let r = export_layout(t.path(), &t.path().join("layout"), &out, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("does not list"), "{}", r.stderr);
    assert_eq!(files_of(&out), before);
}

#[test]
fn planted_names_are_never_written_through() {
    let t = tempfile::tempdir().unwrap();
    let layout = small_layout(t.path());
    let elsewhere = t.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("keep"), b"x").unwrap();
    let victim = t.path().join("victim");
    fs::write(&victim, b"victim").unwrap();
    // The names the old code used (predictable): a partial directory and temporary tarballs for
    // the next process ids.
    std::os::unix::fs::symlink(&elsewhere, t.path().join(".out.airlock-partial")).unwrap();
    let pid_now = std::process::id();
    for pid in pid_now..pid_now + 200 {
        let _ =
            std::os::unix::fs::symlink(&victim, t.path().join(format!(".b.tar.airlock-tmp-{pid}")));
    }
    // A symlinked lock name is not followed either.
    std::os::unix::fs::symlink(&victim, t.path().join(".c.tar.airlock-lock")).unwrap();
    let out = t.path().join("out");
    assert_eq!(export_layout(t.path(), &layout, &out, &[]).code, 0);
    assert_eq!(
        export_layout(t.path(), &layout, &t.path().join("b.tar"), &[]).code,
        0
    );
    let r = export_layout(t.path(), &layout, &t.path().join("c.tar"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(fs::read(&victim).unwrap(), b"victim");
    assert_eq!(leftovers(&elsewhere, &[]), ["keep"]);
    assert_eq!(verify_json(&out, &[]).code, 0);
    // -o naming a symbolic link: refused (the link's target is never written).
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let r = export_layout(t.path(), &layout, &link, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(leftovers(&elsewhere, &[]), ["keep"]);
}

#[test]
fn a_second_export_to_a_locked_output_fails_at_once() {
    let t = tempfile::tempdir().unwrap();
    let layout = small_layout(t.path());
    let out = t.path().join("b.tar");
    let dir = airlock::export::staging::open_dir(t.path()).unwrap();
    let held = airlock::export::staging::lock(&dir, t.path(), "b.tar").unwrap();
    let start = Instant::now();
    let r = export_layout(t.path(), &layout, &out, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("another airlock export"), "{}", r.stderr);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!out.exists());
    drop(held);
    assert_eq!(leftovers(t.path(), &["layout"]), Vec::<String>::new());
    assert_eq!(export_layout(t.path(), &layout, &out, &[]).code, 0);
    assert_eq!(
        leftovers(t.path(), &["layout", "b.tar"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_closed_or_broken_stdout_fails_the_export() {
    let t = tempfile::tempdir().unwrap();
    // Large enough that the tarball does not fit in a pipe's buffer.
    let layout = t.path().join("layout");
    airlock::fixture::generate(
        &layout,
        &airlock::fixture::Spec {
            layer_size: 1 << 20,
            ..Default::default()
        },
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_airlock");
    let src = format!("oci:{}", arg(&layout));
    // stdout closed.
    let o = std::process::Command::new("sh")
        .args(["-c", &format!("exec '{bin}' export '{src}' -o - >&-")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("wrote"), "{err}");
    // The reader goes away after a few bytes.
    let o = std::process::Command::new("bash")
        .args([
            "-c",
            &format!("set -o pipefail; '{bin}' export '{src}' -o - | head -c 10 >/dev/null"),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
}

#[test]
fn the_output_folder_is_created_when_missing() {
    let t = tempfile::tempdir().unwrap();
    let layout = small_layout(t.path());
    for out in [
        t.path().join("a/b/bundle"),
        t.path().join("c/d/bundle.tar.zst"),
    ] {
        let r = export_layout(t.path(), &layout, &out, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(verify_json(&out, &[]).code, 0);
        assert_eq!(
            leftovers(
                out.parent().unwrap(),
                &[&out.file_name().unwrap().to_string_lossy()]
            ),
            Vec::<String>::new()
        );
    }
}
