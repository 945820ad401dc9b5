//! Hostile tar entries: each is a failure with its own reason, never a write, never a crash.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::*;

/// Appends one raw entry: the name is written into the header as given (no sanitising, unlike
/// `tar::Header::set_path`), with an optional declared size that may lie.
fn raw_entry(
    out: &mut Vec<u8>,
    name: &[u8],
    flag: u8,
    body: &[u8],
    declared: Option<u64>,
    link: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
    }
    h.set_size(declared.unwrap_or(body.len() as u64));
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::new(flag));
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(body);
    let pad = (512 - body.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

/// The valid layout as raw tar entries, with `hostile` spliced in before `index.json`.
fn layout_with(root: &Path, hostile: &dyn Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    for name in files_of(root) {
        if name == "index.json" {
            hostile(&mut out);
        }
        let data = fs::read(root.join(&name)).unwrap();
        raw_entry(&mut out, name.as_bytes(), b'0', &data, None, b"");
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

fn evil_written(t: &Path) -> bool {
    walkdir::WalkDir::new(t)
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("evil"))
        || Path::new("/tmp/airlock-evil").exists()
}

type Build = Box<dyn Fn(&Path) -> Vec<u8>>;
type Case = (&'static str, Build, &'static str);

fn cases() -> Vec<Case> {
    fn with(f: impl Fn(&mut Vec<u8>) + 'static) -> Build {
        Box::new(move |root| layout_with(root, &f))
    }
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    vec![
        (
            "dotdot",
            with(|o| raw_entry(o, b"../evil", b'0', b"x", None, b"")),
            "unsafe_path",
        ),
        (
            "dotdot-inside",
            with(|o| raw_entry(o, b"blobs/../../evil", b'0', b"x", None, b"")),
            "unsafe_path",
        ),
        (
            "absolute",
            with(|o| raw_entry(o, b"/tmp/airlock-evil", b'0', b"x", None, b"")),
            "unsafe_path",
        ),
        (
            "symlink",
            with(move |o| {
                raw_entry(
                    o,
                    format!("blobs/sha256/{hex}").as_bytes(),
                    b'2',
                    b"",
                    None,
                    b"/etc/passwd",
                )
            }),
            "link_entry",
        ),
        (
            "hardlink",
            with(|o| raw_entry(o, b"evil-hard", b'1', b"", None, b"index.json")),
            "link_entry",
        ),
        (
            "char-device",
            with(|o| raw_entry(o, b"evil-chr", b'3', b"", None, b"")),
            "special_file",
        ),
        (
            "block-device",
            with(|o| raw_entry(o, b"evil-blk", b'4', b"", None, b"")),
            "special_file",
        ),
        (
            "fifo",
            with(|o| raw_entry(o, b"evil-fifo", b'6', b"", None, b"")),
            "special_file",
        ),
        (
            "duplicate",
            with(|o| {
                raw_entry(
                    o,
                    b"oci-layout",
                    b'0',
                    br#"{"imageLayoutVersion":"1.0.0"}"#,
                    None,
                    b"",
                )
            }),
            "duplicate_entry",
        ),
        (
            "duplicate-dot-slash",
            with(|o| {
                raw_entry(
                    o,
                    b"./oci-layout",
                    b'0',
                    br#"{"imageLayoutVersion":"1.0.0"}"#,
                    None,
                    b"",
                )
            }),
            "duplicate_entry",
        ),
        (
            "stray-name",
            with(|o| raw_entry(o, b"README", b'0', b"hello", None, b"")),
            "unexpected_entry",
        ),
        (
            "not-a-digest",
            with(|o| raw_entry(o, b"blobs/sha256/zzz", b'0', b"x", None, b"")),
            "unexpected_entry",
        ),
        (
            "stray-dir",
            with(|o| raw_entry(o, b"evil-dir/", b'5', b"", None, b"")),
            "unexpected_entry",
        ),
        (
            "huge-long-name",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                v.truncate(v.len() - 1024);
                raw_entry(&mut v, b"././@LongLink", b'L', b"short", Some(1 << 30), b"");
                v
            }),
            "archive_corrupt",
        ),
        (
            "absurd-size",
            Box::new(move |root| {
                let mut v = layout_with(root, &|_| {});
                v.truncate(v.len() - 1024);
                raw_entry(
                    &mut v,
                    format!("blobs/sha256/{hex}").as_bytes(),
                    b'0',
                    b"tiny",
                    Some(1 << 40),
                    b"",
                );
                v
            }),
            "archive_corrupt",
        ),
        (
            "truncated",
            Box::new(|root| {
                let v = layout_with(root, &|_| {});
                v[..v.len() / 2 + 100].to_vec()
            }),
            "archive_corrupt",
        ),
        (
            // An entry past the end-of-archive marker: GNU tar stops there, `tar -i` reads on.
            "entry-after-end",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                raw_entry(&mut v, b"evil", b'0', b"x", None, b"");
                v.extend(std::iter::repeat_n(0u8, 1024));
                v
            }),
            "archive_corrupt",
        ),
        (
            "trailing-garbage",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                v.extend_from_slice(b"trailing bytes that are not padding");
                v
            }),
            "archive_corrupt",
        ),
        (
            // Zeros past the end-of-archive marker are record padding, up to a point: a stream of
            // them (a zstd frame of zeros expands a thousandfold) is refused, not read for hours.
            "zero-bomb",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                v.extend(std::iter::repeat_n(0u8, 17 << 20));
                v
            }),
            "archive_corrupt",
        ),
        (
            "lone-zero-block",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                v.truncate(v.len() - 512);
                raw_entry(&mut v, b"oci-layout", b'0', b"{}", None, b"");
                v.extend(std::iter::repeat_n(0u8, 1024));
                v
            }),
            "archive_corrupt",
        ),
        (
            // Cut at an entry boundary: every entry whole, the end-of-archive marker gone.
            "no-end-marker",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                v.truncate(v.len() - 1024);
                v
            }),
            "archive_corrupt",
        ),
        (
            "directory-with-a-body",
            with(|o| raw_entry(o, b"blobs/", b'5', &[b'x'; 1000], None, b"")),
            "unexpected_entry",
        ),
        (
            // PAX sparse 0.1: GNU tar would name this file `evil` and read its body as a map.
            "pax-sparse",
            with(move |o| {
                let rec = b"27 GNU.sparse.name=../evil\n";
                raw_entry(o, b"PaxHeaders/x", b'x', rec, None, b"");
                raw_entry(
                    o,
                    format!("blobs/sha256/{hex}").as_bytes(),
                    b'0',
                    b"",
                    None,
                    b"",
                );
            }),
            "special_file",
        ),
        (
            // A global `path` renames every later entry for Python's tarfile, not for GNU tar.
            "global-pax-path",
            with(|o| {
                raw_entry(
                    o,
                    b"pax_global_header",
                    b'g',
                    b"19 path=index.json\n",
                    None,
                    b"",
                )
            }),
            "archive_corrupt",
        ),
        (
            "bad-checksum",
            Box::new(|root| {
                let mut v = layout_with(root, &|_| {});
                v[0] ^= 0x20; // first header's name changes; its checksum no longer holds
                v
            }),
            "archive_corrupt",
        ),
    ]
}

#[test]
fn hostile_entries_fail_and_write_nothing() {
    let mut problems = Vec::new();
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    for (name, build, want) in cases() {
        let raw = build(&root);
        for form in [Form::Tar, Form::TarGz, Form::TarZst] {
            let out = t.path().join(format!("{name}.bundle"));
            write_compressed(&out, &raw, form);
            let r = verify_json(&out, &[]);
            if evil_written(t.path()) {
                problems.push(format!("{name}/{form:?}: something was written"));
            }
            if r.code != 1 {
                problems.push(format!(
                    "{name}/{form:?}: exit {} (want 1): {}",
                    r.code, r.stderr
                ));
                continue;
            }
            let codes = r.codes();
            if !codes.iter().any(|c| c == want) {
                problems.push(format!("{name}/{form:?}: want {want}, got {codes:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The same hostile archives on stdin (`verify -`): the same reasons, exit 1, nothing written.
#[test]
fn hostile_entries_on_stdin_fail_the_same_way() {
    let mut problems = Vec::new();
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let cwd = t.path().join("cwd");
    fs::create_dir(&cwd).unwrap();
    for (name, build, want) in cases() {
        let raw = build(&root);
        let packed = t.path().join(format!("{name}.tar.zst"));
        write_compressed(&packed, &raw, Form::TarZst);
        let r = run_stdin(
            &cwd,
            &[
                "verify",
                "-",
                "--integrity-only",
                "--format",
                "json",
                "--no-progress",
            ],
            &fs::read(&packed).unwrap(),
        );
        if r.code != 1 {
            problems.push(format!("{name}: exit {} (want 1): {}", r.code, r.stderr));
            continue;
        }
        if !r.codes().iter().any(|c| c == want) {
            problems.push(format!("{name}: want {want}, got {:?}", r.codes()));
        }
        if evil_written(t.path()) || fs::read_dir(&cwd).unwrap().next().is_some() {
            problems.push(format!("{name}: something was written"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Data after the compressed stream (garbage, or zeros gzip would ignore with a warning) is
/// refused; several gzip members, several zstd frames and skippable frames are one stream and
/// pass; a zstd frame declaring a window over the bound is refused before it can take the memory.
#[test]
fn compressed_streams_are_read_whole_and_bounded() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let raw = layout_with(&root, &|_| {});
    let (a, b) = raw.split_at(raw.len() / 2);
    let gz = |x: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, x).unwrap();
        e.finish().unwrap()
    };
    let zst = |x: &[u8]| zstd::encode_all(x, 3).unwrap();
    let skippable = [
        &0x184D_2A50u32.to_le_bytes()[..],
        &4u32.to_le_bytes(),
        b"skip",
    ]
    .concat();
    let window = |log: u32| {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.set_parameter(zstd::stream::raw::CParameter::WindowLog(log))
            .unwrap();
        std::io::Write::write_all(&mut e, &raw).unwrap();
        e.finish().unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("gzip-members.tar.gz", [gz(a), gz(b)].concat(), 0),
        ("zstd-frames.tar.zst", [zst(a), zst(b)].concat(), 0),
        (
            "zstd-skippable.tar.zst",
            [zst(a), skippable, zst(b)].concat(),
            0,
        ),
        ("zstd-window-25.tar.zst", window(25), 0),
        (
            "gzip-garbage.tar.gz",
            [gz(&raw), b"garbage".to_vec()].concat(),
            1,
        ),
        ("gzip-zeros.tar.gz", [gz(&raw), vec![0u8; 64]].concat(), 1),
        (
            "zstd-garbage.tar.zst",
            [zst(&raw), b"garbage".to_vec()].concat(),
            1,
        ),
        ("zstd-window-27.tar.zst", window(27), 1),
        ("zstd-window-30.tar.zst", window(30), 1),
    ];
    let mut problems = Vec::new();
    for (name, bytes, want) in cases {
        let p = t.path().join(name);
        fs::write(&p, bytes).unwrap();
        let r = verify_json(&p, &[]);
        if r.code != want {
            problems.push(format!(
                "{name}: exit {} (want {want}): {}",
                r.code, r.stdout
            ));
        } else if want == 1 && !r.codes().iter().any(|c| c == "archive_corrupt") {
            problems.push(format!("{name}: {:?}", r.codes()));
        } else if want == 0 && r.json()["bundle"]["fileDigest"].is_null() {
            problems.push(format!("{name}: passed without a file digest"));
        }
        if name.starts_with("zstd-window-3") && !r.stdout.contains("window") {
            problems.push(format!("{name}: the reason does not name the window"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn gnu_tar_and_pax_archives_with_dot_slash_pass() {
    if !have("tar") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    for fmt in ["gnu", "pax", "ustar"] {
        let out = t.path().join(format!("{fmt}.tar"));
        let st = Command::new("tar")
            .args([
                "--format",
                fmt,
                "-C",
                root.to_str().unwrap(),
                "-cf",
                out.to_str().unwrap(),
                ".",
            ])
            .status()
            .unwrap();
        assert!(st.success());
        let r = verify_json(&out, &[]);
        assert_eq!(r.code, 0, "{fmt}: {}", r.stdout);
    }
}

#[test]
fn unreadable_input_is_an_operational_error() {
    let t = tempfile::tempdir().unwrap();
    let junk = t.path().join("junk.tar");
    fs::write(&junk, b"this is not an archive at all").unwrap();
    let r = verify_json(&junk, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unrecognised"), "{}", r.stderr);
    let empty = t.path().join("empty");
    fs::write(&empty, b"").unwrap();
    assert_eq!(verify_json(&empty, &[]).code, 2);
    assert_eq!(verify_json(&t.path().join("missing"), &[]).code, 2);
}

#[test]
fn corrupt_compression_is_a_failure() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    for form in [Form::TarGz, Form::TarZst] {
        let b = pack(&root, form);
        let mut bytes = fs::read(&b).unwrap();
        let mid = bytes.len() / 2;
        for x in &mut bytes[mid..mid + 64] {
            *x ^= 0x5a;
        }
        fs::write(&b, bytes).unwrap();
        let r = verify_json(&b, &[]);
        assert_eq!(r.code, 1, "{form:?}: {}", r.stderr);
        let codes = r.codes();
        assert!(
            codes
                .iter()
                .any(|c| c == "archive_corrupt" || c == "digest_mismatch"),
            "{form:?}: {codes:?}"
        );
    }
}

/// Record padding after the end-of-archive marker (GNU tar `-b 2048` pads to 1 MiB records) is
/// not refused: the zero-bomb limit sits well above any tar writer's padding.
#[test]
fn padding_after_the_end_marker_is_accepted() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let mut v = layout_with(&root, &|_| {});
    v.extend(std::iter::repeat_n(0u8, 1 << 20));
    let out = t.path().join("padded.tar.zst");
    write_compressed(&out, &v, Form::TarZst);
    let r = verify_json(&out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// An entry named with terminal control sequences (a carriage return, an erase-line and a colour
/// that draw a green PASS over the FAIL line): the text summary writes them as escapes, so the
/// terminal shows the name, not what it would draw.
#[test]
fn control_characters_in_a_name_reach_the_terminal_escaped() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let name = b"\r\x1b[2K\x1b[32mPASS: 0 failure(s)\x1b[8m";
    let raw = layout_with(&root, &|o| raw_entry(o, name, b'0', b"x", None, b""));
    let out = t.path().join("spoof.tar");
    write_compressed(&out, &raw, Form::Tar);
    let r = run_in(
        t.path(),
        &["verify", out.to_str().unwrap(), "--integrity-only"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains('\r'),
        "raw control characters reached stderr: {:?}",
        r.stderr
    );
    assert!(r.stderr.contains("\\u{1b}[32mPASS"), "{:?}", r.stderr);
}
