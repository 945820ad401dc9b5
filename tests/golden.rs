//! The CLI's outputs pinned by golden files under `tests/golden/` (as rage's and ripgrep's CLI tests
//! pin theirs): `inspect` text and JSON of the deterministic fixture (`airlock fixture`),
//! `verify --integrity-only` JSON and human summary of it, and the `export --format json` summary
//! of a layout export with `SOURCE_DATE_EPOCH` pinned. Volatile fields (`verifiedAt`, the tool
//! version) are normalised first. `AIRLOCK_UPDATE_GOLDEN=1 cargo test --test integration golden`
//! rewrites the files; review the diff before committing it.

use std::path::Path;

use crate::common::{run_in, run_pinned, Run};

/// Compares `actual` with `tests/golden/NAME`, or writes it there under `AIRLOCK_UPDATE_GOLDEN`.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("AIRLOCK_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} ({e}); run with AIRLOCK_UPDATE_GOLDEN=1 to write it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "output differs from {} (AIRLOCK_UPDATE_GOLDEN=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// A successful run, or a panic showing its streams.
fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    r
}

/// The JSON as printed (key order kept), with the volatile fields replaced by placeholders: the
/// `verifiedAt` line and the tool version.
fn normalised(r: &Run) -> String {
    let v = r.json();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        v.pointer("/tool/version")
            .map_or(version, |t| t.as_str().unwrap()),
        version
    );
    let mut out = String::new();
    for line in r.stdout.lines() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        if body.starts_with("\"verifiedAt\": ") {
            let comma = if body.ends_with(',') { "," } else { "" };
            out.push_str(&format!("{indent}\"verifiedAt\": \"<verifiedAt>\"{comma}"));
        } else {
            out.push_str(&line.replace(
                &format!("\"version\": \"{version}\""),
                "\"version\": \"<version>\"",
            ));
        }
        out.push('\n');
    }
    out
}

/// A working directory holding the fixture as `fx` (relative names keep the outputs stable).
fn fixture() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    ok(run_in(
        t.path(),
        &["fixture", "--layer-size", "4096", "--no-progress", "fx"],
    ));
    t
}

#[test]
fn inspect_text_and_json() {
    let t = fixture();
    let text = ok(run_in(t.path(), &["inspect", "fx"]));
    golden("inspect.txt", &text.stdout);
    let json = ok(run_in(t.path(), &["inspect", "fx", "--format", "json"]));
    golden("inspect.json", &normalised(&json));
}

#[test]
fn verify_integrity_json_and_summary() {
    let t = fixture();
    let args = ["verify", "fx", "--integrity-only", "--no-progress"];
    let json = ok(run_in(
        t.path(),
        &[&args[..], &["--format", "json"]].concat(),
    ));
    golden("verify-integrity.json", &normalised(&json));
    let human = ok(run_in(t.path(), &args));
    golden("verify-integrity.stderr", &human.stderr);
}

#[test]
fn export_json_summary() {
    let t = fixture();
    let r = ok(run_pinned(
        t.path(),
        &[
            "export",
            "oci:fx",
            "--output",
            "out.tar",
            "--format",
            "json",
            "--no-progress",
        ],
    ));
    golden("export.json", &normalised(&r));
}
