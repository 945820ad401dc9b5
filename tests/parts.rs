//! Parts (issue 13): a bundle split into parts that fit the media, each part checked on arrival,
//! and the set read as one stream by verify, inspect and import, with every damage named.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

/// A deterministic bundle from the project's own generator (`airlock fixture`).
fn fixture(dir: &Path, file: &str, layer_size: u64) -> PathBuf {
    let out = dir.join(file);
    let r = run_in(
        dir,
        &[
            "fixture",
            &arg(&out),
            "--layer-size",
            &layer_size.to_string(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

fn split(bundle: &Path, size: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "split",
        bundle.to_str().unwrap(),
        "--size",
        size,
        "-o",
        out.to_str().unwrap(),
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    run_in(out, &args)
}

fn manifest_of(dir: &Path, bundle: &Path) -> PathBuf {
    dir.join(format!(
        "{}.parts.json",
        bundle.file_name().unwrap().to_string_lossy()
    ))
}

/// The report without what differs between reading a set and reading the file.
fn comparable(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("verifiedAt");
    o.remove("parts");
    v
}

fn part_file(dir: &Path, bundle: &Path, n: usize) -> PathBuf {
    dir.join(format!(
        "{}.{n:03}",
        bundle.file_name().unwrap().to_string_lossy()
    ))
}

fn results(report: &Value) -> Vec<String> {
    report["parts"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["result"].as_str().unwrap().to_owned())
        .collect()
}

/// Finding (code, path) pairs.
fn found(report: &Value) -> Vec<(String, String)> {
    report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn split_and_read_back_in_every_compression_at_every_cut() {
    let t = tempfile::tempdir().unwrap();
    for file in ["b.tar", "b.tar.gz", "b.tar.zst"] {
        let bundle = fixture(t.path(), file, 20_000);
        let len = fs::metadata(&bundle).unwrap().len();
        let single = verify_json(&bundle, &[]);
        assert_eq!(single.code, 0, "{}", single.stderr);
        // 100: inside the first tar header; 512 and 1024: exactly on block and entry boundaries
        // (the oci-layout entry ends at 1024); 30000: inside a 20 kB layer; len: one part;
        // len / 1000 rounded up: about a thousand parts.
        let thousand = len.div_ceil(1000);
        for size in [100, 512, 1024, 30_000, len, thousand] {
            if size == 100 && file != "b.tar" {
                continue; // a tar header is cut only in a plain tar
            }
            let out = t.path().join(format!("{file}-{size}"));
            fs::create_dir(&out).unwrap();
            let r = split(&bundle, &size.to_string(), &out, &["--format", "json"]);
            assert_eq!(r.code, 0, "{file} {size}: {}", r.stderr);
            let m = r.json();
            let count = m["parts"].as_array().unwrap().len() as u64;
            assert_eq!(count, len.div_ceil(size), "{file} {size}");
            assert_eq!(m["size"], len);
            for p in m["parts"].as_array().unwrap() {
                assert!(p["size"].as_u64().unwrap() <= size);
            }
            // The parts joined are the file, byte for byte (the test joins; airlock never does).
            let mut joined = Vec::new();
            for n in 1..=count as usize {
                joined.extend(fs::read(part_file(&out, &bundle, n)).unwrap());
            }
            assert!(joined == fs::read(&bundle).unwrap(), "{file} {size}");
            // Read from the manifest, the first part and the folder: the same report as the file.
            let manifest = manifest_of(&out, &bundle);
            let inputs = if size == 30_000 || size == len {
                vec![manifest.clone(), part_file(&out, &bundle, 1), out.clone()]
            } else {
                vec![manifest.clone()]
            };
            for input in inputs {
                let v = verify_json(&input, &[]);
                assert_eq!(v.code, 0, "{file} {size} {}: {}", input.display(), v.stderr);
                let j = v.json();
                assert_eq!(
                    comparable(j.clone()),
                    comparable(single.json()),
                    "{file} {size}"
                );
                assert_eq!(j["parts"]["verdict"], "pass");
                assert!(results(&j).iter().all(|r| r == "pass"));
                assert_eq!(j["parts"]["parts"].as_array().unwrap().len() as u64, count);
            }
            if size == thousand {
                assert!(count >= 900, "{count} parts");
            }
            if size == 30_000 {
                let i = run_in(t.path(), &["inspect", &arg(&manifest), "--format", "json"]);
                assert_eq!(i.code, 0, "{}", i.stderr);
                let single_i = run_in(t.path(), &["inspect", &arg(&bundle), "--format", "json"]);
                assert_eq!(i.json()["images"], single_i.json()["images"]);
                assert_eq!(i.json()["parts"]["verdict"], "pass");
                let p = run_in(t.path(), &["verify", "--parts-only", &arg(&manifest)]);
                assert_eq!(p.code, 0, "{}", p.stderr);
            }
        }
    }
}

/// A set of a bundle cut into 8 kB parts, in a fresh folder.
fn set_of(t: &Path, file: &str, name: &str) -> (PathBuf, PathBuf, usize) {
    let bundle = fixture(t, file, 20_000);
    let out = t.join(name);
    fs::create_dir(&out).unwrap();
    let r = split(&bundle, "8K", &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let count = fs::metadata(&bundle).unwrap().len().div_ceil(8192) as usize;
    assert!(count >= 8);
    (bundle, out, count)
}

#[test]
fn each_damage_is_named_by_part() {
    let t = tempfile::tempdir().unwrap();
    for file in ["b.tar", "b.tar.zst"] {
        // (what is done, the code, the part it names, whether the content check can still pass)
        type Damage = fn(&Path, &Path);
        let cases: [(&str, Damage, &str, usize); 6] = [
            (
                "missing",
                |o, b| fs::remove_file(part_file(o, b, 3)).unwrap(),
                "part_missing",
                3,
            ),
            (
                "truncated",
                |o, b| {
                    let p = part_file(o, b, 4);
                    let f = fs::OpenOptions::new().write(true).open(&p).unwrap();
                    f.set_len(1000).unwrap();
                },
                "part_size_mismatch",
                4,
            ),
            (
                "extended",
                |o, b| {
                    let p = part_file(o, b, 2);
                    let mut bytes = fs::read(&p).unwrap();
                    bytes.extend_from_slice(b"trailing");
                    fs::write(&p, bytes).unwrap();
                },
                "part_size_mismatch",
                2,
            ),
            (
                "swapped",
                |o, b| {
                    let (p2, p3) = (part_file(o, b, 2), part_file(o, b, 3));
                    let tmp = o.join("swap");
                    fs::rename(&p2, &tmp).unwrap();
                    fs::rename(&p3, &p2).unwrap();
                    fs::rename(&tmp, &p3).unwrap();
                },
                "part_digest_mismatch",
                2,
            ),
            (
                "duplicated",
                |o, b| {
                    fs::copy(part_file(o, b, 5), part_file(o, b, 6)).unwrap();
                },
                "part_digest_mismatch",
                6,
            ),
            (
                "corrupted",
                |o, b| {
                    let p = part_file(o, b, 5);
                    let mut bytes = fs::read(&p).unwrap();
                    bytes[4000] ^= 0x55;
                    fs::write(&p, bytes).unwrap();
                },
                "part_digest_mismatch",
                5,
            ),
        ];
        for (what, damage, code, n) in cases {
            let (bundle, out, count) = set_of(t.path(), file, &format!("{file}-{what}"));
            damage(&out, &bundle);
            let name = part_file(&out, &bundle, n)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let manifest = manifest_of(&out, &bundle);
            let v = verify_json(&manifest, &[]);
            assert_eq!(v.code, 1, "{file} {what}: {}", v.stderr);
            let j = v.json();
            assert_eq!(j["verdict"], "fail");
            let f = found(&j);
            assert!(
                f.contains(&(code.to_owned(), name.clone())),
                "{file} {what}: {f:?}"
            );
            assert!(v.stderr.is_empty() || !v.stderr.contains("panicked"));
            // Named in the parts section too; the other parts pass.
            let r = results(&j);
            assert_eq!(r.len(), count);
            assert_ne!(r[n - 1], "pass", "{file} {what}");
            if what == "swapped" {
                assert_eq!(r[2], "digest_mismatch");
                assert!(j["failures"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("part 3"));
            }
            let bad = r.iter().filter(|x| *x != "pass").count();
            assert_eq!(
                bad,
                if what == "swapped" { 2 } else { 1 },
                "{file} {what}: {r:?}"
            );
            // Beside the content failures it causes (an appended tail leaves the content whole).
            let content: Vec<_> = f.iter().filter(|(c, _)| !c.starts_with("part_")).collect();
            if what != "extended" {
                assert!(!content.is_empty(), "{file} {what}: no content failure");
            }
            // Checked on arrival: the same part named, exit 1.
            let p = run_in(
                t.path(),
                &[
                    "verify",
                    "--parts-only",
                    &arg(&manifest),
                    "--format",
                    "json",
                ],
            );
            assert_eq!(p.code, 1, "{file} {what}: {}", p.stderr);
            assert!(
                found(&p.json()).contains(&(code.to_owned(), name.clone())),
                "{file} {what}: {}",
                p.stdout
            );
            // inspect fails too.
            let i = run_in(t.path(), &["inspect", &arg(&manifest)]);
            assert_eq!(i.code, 1, "{file} {what}: {}", i.stderr);
            assert!(i.stderr.contains(code), "{}", i.stderr);
        }
    }
}

#[test]
fn an_unexpected_part_is_named() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, count) = set_of(t.path(), "b.tar.zst", "set");
    let extra = part_file(&out, &bundle, count + 1);
    fs::copy(part_file(&out, &bundle, 1), &extra).unwrap();
    let v = verify_json(&out, &[]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let name = extra.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(found(&v.json()), vec![("part_unexpected".to_owned(), name)]);
    assert_eq!(v.json()["parts"]["unexpected"].as_array().unwrap().len(), 1);
}

/// A parts manifest on the carrier's medium that is a FIFO, or a link to one, used to hang
/// `verify`, `inspect` and `import` forever; it is refused at once, as a part would be.
#[test]
fn a_parts_manifest_that_is_a_fifo_or_a_link_is_refused_at_once() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, _) = set_of(t.path(), "b.tar.zst", "set");
    let manifest = manifest_of(&out, &bundle);
    let fifo = t.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let part = part_file(&out, &bundle, 1);
    let replace = |how: &dyn Fn(&Path)| {
        fs::remove_file(&manifest).unwrap();
        how(&manifest);
    };
    replace(&|m| std::os::unix::fs::symlink(&fifo, m).unwrap());
    // (Named directly, a FIFO is the operator's stream, `verify <(cat b.tar.zst)`: read as one.)
    for target in [out.clone(), part.clone()] {
        for cmd in ["verify", "inspect"] {
            let mut c = bin();
            c.args([cmd, target.to_str().unwrap(), "--no-progress"]);
            if cmd == "verify" {
                c.arg("--integrity-only");
            }
            let r = run_within_a_minute(c, cmd);
            assert!(r.code == 1 || r.code == 2, "{cmd} {target:?}: {}", r.stderr);
        }
    }
    // The FIFO itself in the manifest's place.
    replace(&|m| {
        fs::remove_file(m).ok();
        assert!(std::process::Command::new("mkfifo")
            .arg(m)
            .status()
            .unwrap()
            .success());
    });
    for target in [out.clone(), part] {
        let mut c = bin();
        c.args(["verify", target.to_str().unwrap(), "--integrity-only"]);
        let r = run_within_a_minute(c, "verify");
        assert!(r.code == 1 || r.code == 2, "{target:?}: {}", r.stderr);
    }
}

#[test]
fn one_part_is_checked_on_arrival() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, _) = set_of(t.path(), "b.tar.zst", "set");
    // The disc holds part 3 and the manifest; the others are not here yet.
    let disc = t.path().join("disc");
    fs::create_dir(&disc).unwrap();
    let p3 = disc.join(part_file(&out, &bundle, 3).file_name().unwrap());
    fs::copy(part_file(&out, &bundle, 3), &p3).unwrap();
    fs::copy(manifest_of(&out, &bundle), manifest_of(&disc, &bundle)).unwrap();
    let r = run_in(
        t.path(),
        &["verify", "--parts-only", &arg(&p3), "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let res = results(&j);
    assert_eq!(res[2], "pass");
    assert!(res
        .iter()
        .enumerate()
        .all(|(i, r)| i == 2 || r == "not_checked"));
    // The manifest elsewhere: --manifest.
    let lone = t.path().join("lone");
    fs::create_dir(&lone).unwrap();
    let p3b = lone.join(p3.file_name().unwrap());
    fs::copy(&p3, &p3b).unwrap();
    let r = run_in(
        t.path(),
        &[
            "verify",
            "--parts-only",
            &arg(&p3b),
            "--manifest",
            &arg(&manifest_of(&out, &bundle)),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A damaged disc fails, naming the part.
    let mut bytes = fs::read(&p3).unwrap();
    bytes[10] ^= 1;
    fs::write(&p3, bytes).unwrap();
    let r = run_in(t.path(), &["verify", "--parts-only", &arg(&p3)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("part_digest_mismatch"), "{}", r.stderr);
    // The whole set with a part not yet there: named missing, exit 1.
    let r = run_in(t.path(), &["verify", "--parts-only", &arg(&disc)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("part_missing"), "{}", r.stderr);
}

#[test]
fn split_parts_reissues_byte_identical_parts() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, count) = set_of(t.path(), "b.tar.zst", "set");
    let again = t.path().join("again");
    fs::create_dir(&again).unwrap();
    let r = split(&bundle, "8K", &again, &["--parts", &format!("2,{count}")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for n in [2, count] {
        assert_eq!(
            fs::read(part_file(&again, &bundle, n)).unwrap(),
            fs::read(part_file(&out, &bundle, n)).unwrap()
        );
    }
    // Only those: no manifest, no other part.
    assert_eq!(fs::read_dir(&again).unwrap().count(), 2);
    // Re-issued into the set's folder over a lost part: compared with the manifest there.
    fs::remove_file(part_file(&out, &bundle, 5)).unwrap();
    let r = split(&bundle, "8K", &out, &["--parts", "5"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("matches"), "{}", r.stderr);
    assert_eq!(verify_json(&out, &[]).code, 0);
    // Another size does not give the set's parts: said, exit 1.
    let r = split(&bundle, "9K", &out, &["--parts", "5"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Without --parts, an existing set is not replaced without --force.
    let r = split(&bundle, "8K", &out, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = split(&bundle, "16K", &out, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The earlier set's parts beyond the new one were removed with its manifest's replacement.
    assert!(!part_file(&out, &bundle, count).exists());
    assert_eq!(verify_json(&out, &[]).code, 0);
}

#[test]
fn the_manifest_is_a_map_not_an_anchor() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, _) = set_of(t.path(), "b.tar", "set");
    // The carrier changes a byte inside a layer in part 4 and rewrites the manifest to match.
    let p4 = part_file(&out, &bundle, 4);
    let mut bytes = fs::read(&p4).unwrap();
    bytes[5000] ^= 0xff;
    fs::write(&p4, &bytes).unwrap();
    let manifest = manifest_of(&out, &bundle);
    let mut m = read_json(&manifest);
    m["parts"][3]["sha256"] = Value::String(format!(
        "sha256:{}",
        airlock::digest::Digest::sha256(&bytes).hex()
    ));
    write_json(&manifest, &m);
    // The parts check passes (the map agrees with itself part by part) ...
    let p = run_in(t.path(), &["verify", "--parts-only", &arg(&manifest)]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    // ... but the whole stream no longer hashes to what the manifest lists for it: the full read
    // names the manifest, beside the content failure.
    let v = verify_json(&manifest, &[]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let codes = v.codes();
    assert!(codes.contains(&"digest_mismatch".to_owned()), "{codes:?}");
    assert!(
        found(&v.json()).contains(&(
            "part_digest_mismatch".to_owned(),
            manifest.file_name().unwrap().to_string_lossy().into_owned()
        )),
        "{:?}",
        found(&v.json())
    );
    // The carrier who rewrites the whole stream's digest too makes a manifest that agrees with
    // itself entirely: no part finding, and still the content failure.
    let mut whole = Vec::new();
    for i in 1..=m["parts"].as_array().unwrap().len() {
        whole.extend(fs::read(part_file(&out, &bundle, i)).unwrap());
    }
    m["sha256"] = Value::String(format!(
        "sha256:{}",
        airlock::digest::Digest::sha256(&whole).hex()
    ));
    write_json(&manifest, &m);
    let v = verify_json(&manifest, &[]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let codes = v.codes();
    assert!(codes.contains(&"digest_mismatch".to_owned()), "{codes:?}");
    assert!(!codes.iter().any(|c| c.starts_with("part_")), "{codes:?}");
}

#[test]
fn a_read_only_set_verifies_and_is_left_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let (_, out, _) = set_of(t.path(), "b.tar.gz", "set");
    let before: Vec<_> = {
        let mut v: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    for e in fs::read_dir(&out).unwrap() {
        fs::set_permissions(e.unwrap().path(), fs::Permissions::from_mode(0o444)).unwrap();
    }
    fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).unwrap();
    let v = verify_json(&out, &[]);
    let i = run_in(t.path(), &["inspect", &arg(&out)]);
    fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(v.code, 0, "{}", v.stderr);
    assert_eq!(i.code, 0, "{}", i.stderr);
    let mut after: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    after.sort();
    assert_eq!(before, after);
}

#[test]
fn sizes_by_name_and_unit() {
    let t = tempfile::tempdir().unwrap();
    let bundle = fixture(t.path(), "b.tar", 4096);
    for (size, ok) in [
        ("fat32", true),
        ("dvd", true),
        ("1KB", true),
        ("2K", true),
        ("0", false),
        ("4X", false),
    ] {
        let out = t.path().join(format!("s-{size}"));
        fs::create_dir(&out).unwrap();
        let r = split(&bundle, size, &out, &[]);
        assert_eq!(r.code == 0, ok, "{size}: {}", r.stderr);
    }
    // 1KB is 1000 bytes, 2K 2048.
    let m = read_json(&manifest_of(&t.path().join("s-1KB"), &bundle));
    assert_eq!(m["partSize"], 1000);
    let m = read_json(&manifest_of(&t.path().join("s-2K"), &bundle));
    assert_eq!(m["partSize"], 2048);
    let m = read_json(&manifest_of(&t.path().join("s-fat32"), &bundle));
    assert_eq!(m["partSize"], 4_294_967_295u64);
    assert_eq!(m["parts"].as_array().unwrap().len(), 1);
    assert_eq!(
        m["bundle"]["indexDigest"],
        verify_json(&bundle, &[]).json()["bundleDigest"]
    );
}

#[test]
fn import_from_parts_round_trips() {
    use crate::registry_util::TestRegistry;
    let t = tempfile::tempdir().unwrap();
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let (bundle, out, _) = set_of(t.path(), "b.tar.zst", "set");
    let manifest = manifest_of(&out, &bundle);
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&manifest),
            "--to",
            &format!("{}/site", reg.host()),
            "--integrity-only",
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert!(j["blobsUploaded"].as_u64().unwrap() > 0, "{j}");
    // A second import from the single file uploads nothing: the same bytes arrived.
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&bundle),
            "--to",
            &format!("{}/site", reg.host()),
            "--integrity-only",
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["blobsUploaded"], 0);
    // A damaged part: nothing pushed, the part named.
    let p2 = part_file(&out, &bundle, 2);
    let mut bytes = fs::read(&p2).unwrap();
    bytes[100] ^= 1;
    fs::write(&p2, bytes).unwrap();
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&manifest),
            "--to",
            &format!("{}/other", reg.host()),
            "--integrity-only",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("part_digest_mismatch"), "{}", r.stderr);
}

#[test]
fn a_pipe_is_read_once_not_sniffed_for_a_manifest() {
    let t = tempfile::tempdir().unwrap();
    let bundle = fixture(t.path(), "b.tar.zst", 4096);
    let bytes = fs::read(&bundle).unwrap();
    let r = run_stdin(
        t.path(),
        &["verify", "/dev/stdin", "--integrity-only", "--no-progress"],
        &bytes,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_manifest_records_the_pin_and_a_pinned_verify_reads_the_parts() {
    let case = corpus_dir().join("valid-sig.strict.by-tag");
    if !case.exists() {
        assert!(!strict());
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bundle = t.path().join("b.tar");
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &format!("oci:{}:v1", arg(&case.join("layout"))),
            "-o",
            &arg(&bundle),
            "--trust-policy",
            &arg(&case.join("trustpolicy.json")),
            "--trust-store",
            &arg(&case.join("truststore")),
            "--scope",
            "example.com/app",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pin = r
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("--pin "))
        .unwrap()
        .to_owned();
    let out = t.path().join("set");
    fs::create_dir(&out).unwrap();
    let s = split(&bundle, "2K", &out, &[]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let m = read_json(&manifest_of(&out, &bundle));
    assert_eq!(m["bundle"]["pin"], pin.as_str());
    let args = [
        "--pin",
        &pin,
        "--at",
        "2026-06-01T00:00:00Z",
        "--scope",
        "example.com/app",
    ];
    let from_parts = verify_trust(&out, &args);
    let from_file = verify_trust(&bundle, &args);
    assert_eq!(from_parts.code, 0, "{}", from_parts.stderr);
    assert_eq!(comparable(from_parts.json()), comparable(from_file.json()));
    assert_eq!(m["bundle"]["indexDigest"], from_file.json()["bundleDigest"]);

    // The identity the manifest records is what the operator matches against the ticket: a
    // carrier's manifest naming another bundle, or another pin, fails the set, naming the
    // manifest (red team F, F4).
    let manifest = manifest_of(&out, &bundle);
    let other = format!("sha256:{}", "1".repeat(64));
    for field in ["indexDigest", "pin"] {
        let mut edited = m.clone();
        edited["bundle"][field] = Value::String(other.clone());
        write_json(&manifest, &edited);
        let v = verify_trust(&out, &args);
        assert_eq!(v.code, 1, "{field}: {}", v.stderr);
        assert!(
            found(&v.json()).contains(&(
                "part_digest_mismatch".to_owned(),
                manifest.file_name().unwrap().to_string_lossy().into_owned()
            )),
            "{field}: {:?}",
            found(&v.json())
        );
        assert!(v.stderr.contains(&other), "{field}: {}", v.stderr);
    }
    write_json(&manifest, &m);
    assert_eq!(verify_trust(&out, &args).code, 0);
}

/// `export --split` into `dir` (a folder of its own), `--jobs jobs`; the run.
fn export_split(case: &Path, out: &Path, size: &str, jobs: &str, extra: &[&str]) -> Run {
    let layout = format!("oci:{}:v1", arg(&case.join("layout")));
    let mut args = vec![
        "export",
        &layout,
        "-o",
        out.to_str().unwrap(),
        "--jobs",
        jobs,
        "--no-progress",
    ];
    if !size.is_empty() {
        args.extend_from_slice(&["--split", size]);
    }
    args.extend_from_slice(extra);
    run_pinned(out.parent().unwrap(), &args)
}

#[test]
fn export_split_writes_what_split_writes_from_the_single_file() {
    let case = corpus_dir().join("valid-sig.strict.by-tag");
    if !case.exists() {
        assert!(!strict());
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let policy = arg(&case.join("trustpolicy.json"));
    let store = arg(&case.join("truststore"));
    let trust = [
        "--trust-policy",
        policy.as_str(),
        "--trust-store",
        store.as_str(),
        "--scope",
        "example.com/app",
    ];
    for (file, jobs) in [("b.tar.zst", "4"), ("b.tar", "1"), ("b.tar.gz", "3")] {
        let single_dir = t.path().join(format!("single-{file}"));
        let split_dir = t.path().join(format!("split-{file}"));
        let direct_dir = t.path().join(format!("direct-{file}"));
        for d in [&single_dir, &split_dir, &direct_dir] {
            fs::create_dir(d).unwrap();
        }
        let single = single_dir.join(file);
        let r = export_split(&case, &single, "", jobs, &trust);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let s = split(&single, "1K", &split_dir, &[]);
        assert_eq!(s.code, 0, "{}", s.stderr);
        let direct = direct_dir.join(file);
        let r = export_split(
            &case,
            &direct,
            "1K",
            jobs,
            &[&trust[..], &["--format", "json"]].concat(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        // Nothing else beside the set: no single file, no staging left.
        let m = read_json(&manifest_of(&direct_dir, &direct));
        let n = m["parts"].as_array().unwrap().len();
        assert!(n > 3, "{m}");
        assert_eq!(fs::read_dir(&direct_dir).unwrap().count(), n + 1);
        assert!(!direct.exists());
        // The manifest and every part, byte for byte what `split` writes from the single file.
        assert_eq!(
            fs::read(manifest_of(&direct_dir, &direct)).unwrap(),
            fs::read(manifest_of(&split_dir, &single)).unwrap(),
            "{file}"
        );
        for i in 1..=n {
            assert_eq!(
                fs::read(part_file(&direct_dir, &direct, i)).unwrap(),
                fs::read(part_file(&split_dir, &single, i)).unwrap(),
                "{file} part {i}"
            );
        }
        // The summary lists each part with its digest (JSON), the pin recorded in the manifest.
        let j = r.json();
        assert_eq!(j["parts"]["parts"], m["parts"], "{j}");
        assert_eq!(j["outputDigest"], m["sha256"]);
        assert_eq!(m["bundle"]["pin"], j["pin"]);
        assert!(m["bundle"]["pin"].is_string(), "{m}");
        // verify reads the set, with the pin.
        let pin = j["pin"].as_str().unwrap();
        let args = [
            "--pin",
            pin,
            "--at",
            "2026-06-01T00:00:00Z",
            "--scope",
            "example.com/app",
        ];
        let from_parts = verify_trust(&manifest_of(&direct_dir, &direct), &args);
        assert_eq!(from_parts.code, 0, "{}", from_parts.stderr);
        let ok = run_in(
            t.path(),
            &[
                "verify",
                "--parts-only",
                &arg(&manifest_of(&direct_dir, &direct)),
                "--no-progress",
            ],
        );
        assert_eq!(ok.code, 0, "{}", ok.stderr);
    }
    // Text summary: each part with its digest.
    let d = t.path().join("text");
    fs::create_dir(&d).unwrap();
    let r = export_split(&case, &d.join("b.tar.zst"), "2K", "2", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = read_json(&d.join("b.tar.zst.parts.json"));
    for p in m["parts"].as_array().unwrap() {
        let line = format!("{}  ", p["name"].as_str().unwrap());
        assert!(r.stderr.contains(&line), "{}", r.stderr);
        assert!(
            r.stderr.contains(p["sha256"].as_str().unwrap()),
            "{}",
            r.stderr
        );
    }
    // import reads the set into a real registry.
    if let Some(reg) = crate::registry_util::TestRegistry::start(None) {
        let r = run_in(
            t.path(),
            &[
                "import",
                &arg(&d.join("b.tar.zst.parts.json")),
                "--to",
                &format!("{}/site", reg.host()),
                "--integrity-only",
                "--format",
                "json",
                "--no-progress",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.json()["blobsUploaded"].as_u64().unwrap() > 0);
    }
    // A second export over the set replaces it whole.
    let r = export_split(&case, &d.join("b.tar.zst"), "4K", "2", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m2 = read_json(&d.join("b.tar.zst.parts.json"));
    assert_eq!(m2["partSize"], 4096);
    assert_eq!(
        fs::read_dir(&d).unwrap().count(),
        m2["parts"].as_array().unwrap().len() + 1
    );
}

#[test]
fn export_split_is_refused_for_a_directory_or_stdout() {
    let case = corpus_dir().join("valid-sig.strict.by-tag");
    if !case.exists() {
        assert!(!strict());
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let r = export_split(&case, &t.path().join("dir-out"), "1M", "2", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--split"), "{}", r.stderr);
    assert!(!t.path().join("dir-out").exists());
    let layout = format!("oci:{}:v1", arg(&case.join("layout")));
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &layout,
            "-o",
            "-",
            "--split",
            "1M",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--split"), "{}", r.stderr);
    assert_eq!(fs::read_dir(t.path()).unwrap().count(), 0);
}

#[test]
fn a_failed_export_split_leaves_no_part_and_the_old_set_whole() {
    let t = tempfile::tempdir().unwrap();
    let layout = fixture(t.path(), "layout", 300_000);
    let out_dir = t.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("b.tar.zst");
    let source = format!("oci:{}", arg(&layout));
    let run = |jobs: &str| {
        run_pinned(
            t.path(),
            &[
                "export",
                &source,
                "-o",
                &arg(&out),
                "--split",
                "64K",
                "--jobs",
                jobs,
                "--no-progress",
            ],
        )
    };
    let r = run("4");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = files_of(&out_dir);
    assert!(before.len() > 4, "{:?}", before.len());
    // The largest blob (a layer, streamed) damaged in the source.
    let blobs = layout.join("blobs").join("sha256");
    let big = fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = fs::read(&big).unwrap();
    bytes[200_000] ^= 1;
    let mut perms = fs::metadata(&big).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&big, perms).unwrap();
    fs::write(&big, bytes).unwrap();
    for jobs in ["1", "4"] {
        let r = run(jobs);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            files_of(&out_dir) == before,
            "jobs {jobs}: the previous set changed or staging was left"
        );
    }
}

/// The names and bytes of every file in `dir`, sorted.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_split_stopped_by_a_signal_leaves_no_temporary_file_and_the_old_set_whole() {
    let t = tempfile::tempdir().unwrap();
    // 4 layers of 24 MiB: about a hundred 1 MiB parts, long enough to be caught mid-way.
    let bundle = fixture(t.path(), "b.tar", 24 << 20);
    let out = t.path().join("out");
    fs::create_dir(&out).unwrap();
    assert_eq!(split(&bundle, "1M", &out, &[]).code, 0);
    let before = files_of(&out);
    assert!(before.len() > 90, "{}", before.len());
    // A whole split, and a re-issue of every part (`--parts 1,2,...`).
    let every = (1..=before.len() - 1)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let runs = [
        ("INT", 130, vec!["--force"]),
        ("TERM", 143, vec!["--force"]),
        ("INT", 130, vec!["--parts", every.as_str()]),
        ("TERM", 143, vec!["--parts", every.as_str()]),
    ];
    for (sig, code, extra) in runs {
        let mut child = bin()
            .current_dir(&out)
            .args(["split", &arg(&bundle), "--size", "1M", "-o", &arg(&out)])
            .args(extra)
            .arg("--no-progress")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Caught while it writes: the first temporary part is there, then the process is held
        // (SIGSTOP) so that it cannot finish before the signal lands.
        let start = std::time::Instant::now();
        while !fs::read_dir(&out).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".airlock-tmp-")
        }) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "split ended before it was caught"
            );
            assert!(start.elapsed().as_secs() < 30, "no temporary part appeared");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let pid = child.id().to_string();
        let kill = |s: &str| {
            assert!(std::process::Command::new("kill")
                .args([s, &pid])
                .status()
                .unwrap()
                .success())
        };
        kill("-STOP");
        kill(&format!("-{sig}"));
        kill("-CONT");
        let st = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(st.code(), Some(code), "SIG{sig}: {stderr}");
        assert!(stderr.contains("interrupted by signal"), "{stderr}");
        assert!(
            files_of(&out) == before,
            "SIG{sig}: the earlier set changed or temporary files were left: {:?}",
            fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .filter(|n| n.to_string_lossy().contains("airlock-tmp"))
                .collect::<Vec<_>>()
        );
    }
    // And the set still verifies as parts.
    let m = manifest_of(&out, &bundle);
    let r = run_in(&out, &["verify", "--parts-only", &arg(&m)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A manifest that lists one more part, missing and 2^62 bytes long, after a plain tar's parts:
/// the missing part reads as zeros after the tar's end, which is refused once no padding could be
/// that long; verify ends with both failures instead of reading zeros for years.
#[test]
fn a_huge_missing_part_ends_the_read_instead_of_padding_forever() {
    let report = with_a_part_after_the_end(1 << 62, false);
    let codes = codes_of(&report, "failures");
    for want in ["part_missing", "archive_corrupt"] {
        assert!(codes.contains(&want.to_owned()), "{codes:?}");
    }
}

/// A part a carrier lists after the bundle's end, a sparse file of 1 TiB that costs no disk:
/// once the archive has ended, what follows is not hashed to its listed end (red team F, F6: 2 GiB
/// took 6 s, 16 TiB would take hours). The set fails, the part is not checked, and a
/// `part_unexpected` finding says where the bundle ended.
#[test]
fn a_sparse_part_after_the_end_of_the_bundle_is_not_read_through() {
    let report = with_a_part_after_the_end(1 << 40, true);
    let codes = codes_of(&report, "failures");
    for want in ["part_unexpected", "archive_corrupt"] {
        assert!(codes.contains(&want.to_owned()), "{codes:?}");
    }
    assert_eq!(
        results(&report).last().map(String::as_str),
        Some("not_checked"),
        "{report}"
    );
}

/// A set whose manifest lists one more part of `size` bytes after the bundle's end: absent, or
/// (`sparse`) a sparse file of that size. Verified (within a minute: it must not be read through);
/// the JSON report of the failure.
fn with_a_part_after_the_end(size: u64, sparse: bool) -> serde_json::Value {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, count) = set_of(t.path(), "b.tar", "set");
    let manifest = manifest_of(&out, &bundle);
    let mut m = read_json(&manifest);
    let end = m["size"].as_u64().unwrap();
    let name = format!("b.tar.{:03}", count + 1);
    if sparse {
        fs::File::create(out.join(&name))
            .unwrap()
            .set_len(size)
            .unwrap();
    }
    m["parts"].as_array_mut().unwrap().push(
        serde_json::json!({"name": name, "offset": end, "size": size,
            "sha256": format!("sha256:{}", "0".repeat(64))}),
    );
    m["size"] = serde_json::json!(end + size);
    m["partSize"] = serde_json::json!(size);
    write_json(&manifest, &m);
    let mut cmd = bin();
    cmd.current_dir(&out).args([
        "verify",
        &arg(&manifest),
        "--integrity-only",
        "--format",
        "json",
    ]);
    let r = run_within_a_minute(cmd, "verify of a set with a part after the end");
    assert_eq!(r.code, 1, "{}", r.stderr);
    r.json()
}

/// Splitting again over an earlier set removes the earlier set's own parts that the new set does
/// not have, and nothing else: the earlier manifest is a file in the folder like any other, so a
/// name it lists that is no part of this set's name (`victim.txt`, another set's part) stays.
#[test]
fn splitting_again_removes_only_the_earlier_sets_own_parts() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, count) = set_of(t.path(), "b.tar", "set");
    let manifest = manifest_of(&out, &bundle);
    let mut m = read_json(&manifest);
    let stale = format!("b.tar.{:03}", count + 5);
    for name in ["victim.txt", "other.tar.001", stale.as_str()] {
        fs::write(out.join(name), b"precious").unwrap();
        let end = m["size"].as_u64().unwrap();
        m["parts"].as_array_mut().unwrap().push(serde_json::json!({
            "name": name, "offset": end, "size": 8,
            "sha256": format!("sha256:{}", "0".repeat(64))}));
        m["size"] = serde_json::json!(end + 8);
    }
    write_json(&manifest, &m);
    let r = split(&bundle, "8K", &out, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        out.join("victim.txt").exists(),
        "a file no split wrote was removed"
    );
    assert!(
        out.join("other.tar.001").exists(),
        "another set's part was removed"
    );
    assert!(
        !out.join(&stale).exists(),
        "the earlier set's own stale part stays"
    );
}

/// A part size that would make more parts than a set may have is refused before any is written
/// (the file's size says how many it makes).
#[test]
fn too_many_parts_are_refused_before_any_is_written() {
    let t = tempfile::tempdir().unwrap();
    let bundle = fixture(t.path(), "b.tar", 200_000);
    let out = t.path().join("out");
    fs::create_dir(&out).unwrap();
    let r = split(&bundle, "1", &out, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Refused from the size up front ("would make"), not after writing 100,000 parts.
    assert!(r.stderr.contains("would make"), "{}", r.stderr);
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "nothing is written");
}

/// `split --parts N -o DIR` into a set's folder compares every re-issued part with the set's
/// manifest before any is renamed over the part it lists: the wrong bundle file (an export of
/// the same name from another run) or the wrong --size exits 1 and leaves every file in the
/// folder as it was, byte for byte, with no temporary file behind (red team C, F5). A good part
/// re-issued beside a bad one is not written either: all or nothing.
#[test]
fn a_reissue_that_differs_from_the_manifest_leaves_the_set_as_it_was() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, count) = set_of(t.path(), "b.tar.zst", "set");
    // Another bundle of the same name: the same file with one byte changed inside part 3.
    let other_dir = t.path().join("other");
    fs::create_dir(&other_dir).unwrap();
    let other = other_dir.join(bundle.file_name().unwrap());
    let mut bytes = fs::read(&bundle).unwrap();
    bytes[2 * 8192 + 100] ^= 0x01;
    fs::write(&other, &bytes).unwrap();
    // Part 2 was lost; 2 (which the other file gives right) and 3 (which it gives wrong) are
    // re-issued together.
    fs::remove_file(part_file(&out, &bundle, 2)).unwrap();
    let before = files_of(&out);
    let r = split(&other, "8K", &out, &["--parts", "2,3"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("differs"), "{}", r.stderr);
    assert!(r.stderr.contains("b.tar.zst.003"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(
        files_of(&out) == before,
        "the set was changed by a refused re-issue"
    );
    // The other file for part 3 alone: refused, the good part 3 kept.
    let r = split(&other, "8K", &out, &["--parts", "3"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(files_of(&out) == before, "the good part 3 was replaced");
    // The wrong size: refused before anything is written.
    let r = split(&bundle, "9K", &out, &["--parts", "3"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        files_of(&out) == before,
        "a part was replaced with another size's"
    );
    // The right file: every part written, the set whole again.
    let r = split(&bundle, "8K", &out, &["--parts", &format!("2,3,{count}")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("matches"), "{}", r.stderr);
    let p = run_in(t.path(), &["verify", "--parts-only", &arg(&out)]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    // A manifest that cannot be read is not written past: refused, nothing written.
    let manifest = manifest_of(&out, &bundle);
    fs::write(&manifest, b"{ not a manifest").unwrap();
    let before = files_of(&out);
    let r = split(&other, "8K", &out, &["--parts", "3"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        files_of(&out) == before,
        "a part was written past an unreadable manifest"
    );
}

/// `split` cuts only a bundle tarball, recognised by its magic bytes as everywhere else: a parts
/// manifest (easy to take for the bundle), or any other file, is refused with exit 2 and nothing
/// written, with `--parts` too. The identity stamped on a set is read from the file cut, never
/// through a parts set its name points to: the first part of a set is no bundle (red team C, F13).
#[test]
fn split_refuses_what_is_not_a_bundle_tarball() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, _) = set_of(t.path(), "b.tar.zst", "set");
    let manifest = manifest_of(&out, &bundle);
    let junk = t.path().join("notes.txt");
    fs::write(&junk, b"not a bundle at all\n".repeat(100)).unwrap();
    let first = part_file(&out, &bundle, 1);
    for (input, extra) in [
        (&manifest, &[][..]),
        (&manifest, &["--parts", "1"][..]),
        (&junk, &[][..]),
        (&first, &[][..]),
    ] {
        let media = t.path().join("media");
        fs::create_dir_all(&media).unwrap();
        let r = split(input, "1K", &media, extra);
        assert_eq!(r.code, 2, "{} {extra:?}: {}", input.display(), r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert_eq!(
            files_of(&media).len(),
            0,
            "{} {extra:?}: something was written",
            input.display()
        );
        fs::remove_dir(&media).unwrap();
    }
    let r = split(&manifest, "1K", &out, &[]);
    assert!(r.stderr.contains("not a bundle"), "{}", r.stderr);
    let r = split(&first, "1K", &out, &[]);
    assert!(r.stderr.contains("not a whole bundle"), "{}", r.stderr);
}

/// A manifest whose part digests are wrong while its whole-stream digest is right: each part is
/// judged by its own digest, on every path. `verify` fails with `part_digest_mismatch` for each
/// part, as `verify --parts-only` does, and `import` refuses before pushing anything (red team C,
/// F3). One wrong part digest is named alone.
#[test]
fn each_part_is_judged_by_its_own_digest_even_when_the_whole_stream_matches() {
    let t = tempfile::tempdir().unwrap();
    let (bundle, out, count) = set_of(t.path(), "b.tar.zst", "set");
    let manifest = manifest_of(&out, &bundle);
    let good = read_json(&manifest);
    let zeros = Value::String(format!("sha256:{}", "0".repeat(64)));
    // Only part 3's listed digest wrong.
    let mut m = good.clone();
    m["parts"][2]["sha256"] = zeros.clone();
    write_json(&manifest, &m);
    let v = verify_json(&manifest, &[]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let j = v.json();
    let name3 = part_file(&out, &bundle, 3)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        found(&j),
        vec![("part_digest_mismatch".to_owned(), name3)],
        "{j}"
    );
    assert_eq!(j["parts"]["parts"][2]["result"], "digest_mismatch");
    assert_eq!(
        j["parts"]["parts"][2]["actualSha256"],
        good["parts"][2]["sha256"]
    );
    // Every part's listed digest wrong.
    for i in 0..count {
        m["parts"][i]["sha256"] = zeros.clone();
    }
    write_json(&manifest, &m);
    let v = verify_json(&out, &[]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let j = v.json();
    assert_eq!(j["parts"]["verdict"], "fail");
    assert!(
        results(&j).iter().all(|r| r == "digest_mismatch"),
        "{:?}",
        results(&j)
    );
    let f = found(&j);
    assert_eq!(
        f.iter()
            .filter(|(c, _)| c == "part_digest_mismatch")
            .count(),
        count,
        "{f:?}"
    );
    // The same verdict as the check on arrival.
    let p = run_in(
        t.path(),
        &["verify", "--parts-only", &arg(&out), "--format", "json"],
    );
    assert_eq!(p.code, 1, "{}", p.stderr);
    assert_eq!(
        found(&p.json())
            .iter()
            .filter(|(c, _)| c == "part_digest_mismatch")
            .count(),
        count
    );
    // inspect says so too.
    let i = run_in(t.path(), &["inspect", &arg(&out)]);
    assert_eq!(i.code, 1, "{}", i.stderr);
    // import refuses in its verification pass: nothing reaches the registry.
    use crate::registry_util::TestRegistry;
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&out),
            "--to",
            &format!("{}/f3", reg.host()),
            "--integrity-only",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("part_digest_mismatch"), "{}", r.stderr);
    let repos = reg.storage.join("docker/registry/v2/repositories");
    assert!(
        !repos.join("f3").exists(),
        "import pushed before refusing: {:?}",
        fs::read_dir(&repos).map(|d| d.count())
    );
}
