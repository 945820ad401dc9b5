//! Unit tests of the `plan` and `write` phases over a local layout (`LayoutFetch`), no registry.

use std::path::Path;

use super::*;
use crate::fixture::{generate, Spec};

fn options(out: &Path, platforms: &[&str], require_signature: bool) -> ExportOptions {
    ExportOptions {
        output: Output::from_arg(out, 3),
        platforms: platforms.iter().map(|p| (*p).to_owned()).collect(),
        referrers: super::ReferrerSelection::All,
        require_signature,
        trust: None,
        crls: Vec::new(),
        allow_failed_signatures: false,
        exported_at: ("2026-01-01T00:00:00Z".into(), 1_767_225_600),
        scope: None,
        progress: std::sync::Arc::new(crate::layout::NoProgress),
        jobs: 1,
        source_platforms: Vec::new(),
        identities: BTreeMap::new(),
        since: BTreeMap::new(),
        signer: None,
        checked: None,
    }
}

fn sources(root: &Path) -> Vec<(String, Box<dyn Fetch>)> {
    let f = LayoutFetch::open(root, None).unwrap();
    vec![(
        format!("oci:{}", root.display()),
        Box::new(f) as Box<dyn Fetch>,
    )]
}

fn layout(dir: &Path) -> (std::path::PathBuf, Digest) {
    let root = dir.join("layout");
    let spec = Spec {
        layer_size: 4096,
        ..Spec::default()
    };
    let top = generate(&root, &spec).unwrap();
    (root, top)
}

#[test]
fn plan_fetches_manifests_and_lists_blobs_without_copying_them() {
    let t = tempfile::tempdir().unwrap();
    let (root, top) = layout(t.path());
    let opts = options(&t.path().join("out"), &[], false);
    let (plan, referrers) = plan(&mut sources(&root), &opts).unwrap();
    assert_eq!(plan.images.len(), 1);
    let image = &plan.images[0];
    assert_eq!(image.digest, top.to_string());
    assert_eq!(image.platforms, vec!["linux/amd64", "linux/arm64"]);
    assert!(image.excluded.is_empty());
    // The top index is held in memory; layers wait to be copied; nothing is both.
    assert!(plan.small.contains_key(&top));
    assert!(!plan.blobs.is_empty());
    assert!(plan.blobs.keys().all(|d| !plan.small.contains_key(d)));
    assert_eq!(plan.entries[0]["digest"], top.to_string());
    // The fixture's referrer is not a signature: it travels, and is no signature of the image.
    assert!(image.signatures.is_empty());
    assert_eq!(image.referrers.len(), 1);
    let carried: Vec<&Descriptor> = referrers.values().flat_map(|(_, r)| r).collect();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0].digest, image.referrers[0].digest);
    assert!(plan
        .small
        .contains_key(&Digest::parse(&carried[0].digest).unwrap()));
    // Filtered out by type, or by none: it stays behind.
    for sel in [
        ReferrerSelection::None,
        ReferrerSelection::Types(vec![NOTARY_SIGNATURE.to_owned()]),
    ] {
        let mut opts = options(&t.path().join("out"), &[], false);
        opts.referrers = sel.clone();
        let (none, left) = super::plan(&mut sources(&root), &opts).unwrap();
        assert!(none.images[0].referrers.is_empty(), "{sel:?}");
        assert!(left.is_empty(), "{sel:?}");
    }
    // Chosen by its type, it travels.
    let mut opts = options(&t.path().join("out"), &[], false);
    opts.referrers =
        ReferrerSelection::Types(vec![image.referrers[0].artifact_type.clone().unwrap()]);
    let (again, _) = super::plan(&mut sources(&root), &opts).unwrap();
    assert_eq!(again.images[0].referrers, image.referrers);
    // Nothing was written.
    assert!(!t.path().join("out").exists());
}

#[test]
fn plan_keeps_only_the_asked_platforms_and_refuses_unsigned_images_when_told() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    let all = plan(
        &mut sources(&root),
        &options(&t.path().join("out"), &[], false),
    )
    .unwrap()
    .0;
    let opts = options(&t.path().join("out"), &["linux/amd64"], false);
    let (one, _) = plan(&mut sources(&root), &opts).unwrap();
    assert_eq!(one.images[0].platforms, vec!["linux/amd64"]);
    assert_eq!(one.images[0].excluded.len(), 1);
    assert!(one.blobs.len() < all.blobs.len());
    let opts = options(&t.path().join("out"), &[], true);
    match plan(&mut sources(&root), &opts) {
        Err(ExportError::Unsigned(_)) => {}
        Err(e) => panic!("expected Unsigned, got {e}"),
        Ok(_) => panic!("expected Unsigned, got a plan"),
    }
}

/// Runs a whole export of the layout at `root` into `out` with `jobs` workers.
fn run_export(root: &Path, out: &Path, jobs: usize) -> Result<ExportSummary, ExportError> {
    let mut opts = options(out, &[], false);
    opts.jobs = jobs;
    let target = prepare(&opts.output, false)?;
    export(&mut sources(root), &opts, target, None)
}

/// Names an export leaves beside its output only while it runs.
fn staging_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".airlock-") && !n.ends_with("lock"))
        .collect()
}

#[test]
fn the_write_phase_writes_the_same_tarball_with_any_number_of_jobs() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    for ext in ["tar", "tar.zst", "tar.gz"] {
        let one = t.path().join(format!("one.{ext}"));
        run_export(&root, &one, 1).unwrap();
        for jobs in [2, 3, 8] {
            let many = t.path().join(format!("many{jobs}.{ext}"));
            let s = run_export(&root, &many, jobs).unwrap();
            assert!(s.blobs > 4, "more blobs than workers: {}", s.blobs);
            assert!(
                std::fs::read(&many).unwrap() == std::fs::read(&one).unwrap(),
                "{jobs} jobs, .{ext}"
            );
        }
    }
    let d1 = t.path().join("d1");
    let d4 = t.path().join("d4");
    let a = run_export(&root, &d1, 1).unwrap();
    let b = run_export(&root, &d4, 4).unwrap();
    assert_eq!(a.output_digest, b.output_digest, "the same index.json");
    assert_eq!((a.blobs, a.bytes), (b.blobs, b.bytes));
    assert!(
        staging_left(t.path()).is_empty(),
        "{:?}",
        staging_left(t.path())
    );
}

#[test]
fn a_bad_blob_stops_every_worker_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    let opts = options(&t.path().join("x"), &[], false);
    let (p, _) = plan(&mut sources(&root), &opts).unwrap();
    // The last layer in digest order: the workers fetch ahead of it, and all must stop.
    let (bad, planned) = p.blobs.iter().last().unwrap();
    assert!(planned.desc.size > 0);
    let file = root.join(crate::layout::blob_path(bad));
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    for out in ["out.tar", "out.tar.zst", "out-dir"] {
        let path = t.path().join(out);
        match run_export(&root, &path, 4) {
            Err(ExportError::Mismatch { digest, .. }) => assert_eq!(digest, bad.to_string()),
            Err(e) => panic!("{out}: expected a mismatch of {bad}, got {e}"),
            Ok(_) => panic!("{out}: exported a corrupted blob"),
        }
        assert!(!path.exists(), "{out}");
        assert!(
            staging_left(t.path()).is_empty(),
            "{out}: {:?}",
            staging_left(t.path())
        );
    }
    bytes[0] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    run_export(&root, &t.path().join("out.tar"), 4).unwrap();
}

#[test]
fn referrer_selection_parses_all_none_and_types() {
    assert_eq!(
        ReferrerSelection::parse("all").unwrap(),
        ReferrerSelection::All
    );
    assert_eq!(
        ReferrerSelection::parse("none").unwrap(),
        ReferrerSelection::None
    );
    let t =
        ReferrerSelection::parse("application/spdx+json, application/vnd.in-toto+json").unwrap();
    assert!(t.wants(Some("application/spdx+json")));
    assert!(t.wants(Some("application/vnd.in-toto+json")));
    assert!(!t.wants(Some(NOTARY_SIGNATURE)));
    assert!(!t.wants(None));
    assert!(ReferrerSelection::parse("sbom").is_err());
    assert!(ReferrerSelection::parse("").is_err());
    assert!(!ReferrerSelection::None.wants(Some(NOTARY_SIGNATURE)));
    assert!(ReferrerSelection::All.wants(None));
}

#[test]
fn a_layouts_cosign_tag_travels_under_its_tag_and_is_no_image() {
    let t = tempfile::tempdir().unwrap();
    let (root, top) = layout(t.path());
    let put = |bytes: &[u8]| {
        let d = Digest::sha256(bytes);
        std::fs::write(root.join(crate::layout::blob_path(&d)), bytes).unwrap();
        d
    };
    let config = br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let payload = b"{\"critical\":{}}";
    let cd = put(config);
    let ld = put(payload);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": model::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": ld.to_string(), "size": payload.len()}],
    }))
    .unwrap();
    let md = put(&manifest);
    let tag = format!("sha256-{}.sig", top.hex());
    let index_path = root.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": model::OCI_MANIFEST, "digest": md.to_string(), "size": manifest.len(),
        "annotations": {model::REF_NAME: tag},
    }));
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    // The layout still has one image (the cosign manifest is not one), and it travels.
    let opts = options(&t.path().join("out"), &[], false);
    let (plan, _) = plan(&mut sources(&root), &opts).unwrap();
    let image = &plan.images[0];
    assert_eq!(image.digest, top.to_string());
    let carried = image
        .referrers
        .iter()
        .find(|r| r.digest == md.to_string())
        .expect("the cosign signature is carried");
    assert_eq!(
        carried.artifact_type.as_deref(),
        Some("application/vnd.dev.cosign.simplesigning.v1+json")
    );
    assert!(
        image.signatures.is_empty(),
        "a cosign signature is no notation signature"
    );
    // The lock records it too: what `--locked` compares is what travels.
    let resolved = lock_all(&root, &[]);
    assert!(resolved
        .referrers
        .iter()
        .any(|r| r.digest == md.to_string()));
    assert_eq!(plan.carried, vec![resolved]);
    // A bundle file's per-image selection filters it by that type too.
    for (types, travels) in [
        (
            vec!["application/vnd.dev.cosign.simplesigning.v1+json"],
            true,
        ),
        (vec![NOTARY_SIGNATURE], false),
    ] {
        let sel = super::config::Referrers::Types(types.iter().map(|t| (*t).to_owned()).collect());
        let (given, f) = sources(&root).remove(0);
        let mut selected: Vec<(String, Box<dyn Fetch>)> =
            vec![(given, Box::new(lock::Selected::new(f, sel)))];
        let (p, _) = super::plan(&mut selected, &opts).unwrap();
        let carried = p.images[0]
            .referrers
            .iter()
            .any(|r| r.digest == md.to_string());
        assert_eq!(carried, travels, "{types:?}");
    }
    assert!(plan
        .entries
        .iter()
        .any(|e| e["digest"] == md.to_string() && e["annotations"][model::REF_NAME] == tag));
    assert!(plan.blobs.contains_key(&ld) && plan.blobs.contains_key(&cd));
    // Not of a chosen type: left behind.
    let mut opts = options(&t.path().join("out"), &[], false);
    opts.referrers = ReferrerSelection::Types(vec!["application/spdx+json".into()]);
    let (plan, _) = super::plan(&mut sources(&root), &opts).unwrap();
    assert!(plan.images[0]
        .referrers
        .iter()
        .all(|r| r.digest != md.to_string()));
    assert!(!plan.entries.iter().any(|e| e["digest"] == md.to_string()));
}

#[test]
fn the_export_carries_what_the_lock_resolves_and_refuses_a_difference_before_writing() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    for platforms in [&[][..], &["linux/arm64"][..]] {
        let platforms: Vec<String> = platforms.iter().map(|p| (*p).to_owned()).collect();
        let resolved = lock_all(&root, &platforms);
        let mut opts = options(&t.path().join("out"), &[], false);
        opts.platforms = platforms.clone();
        let (plan, _) = plan(&mut sources(&root), &opts).unwrap();
        assert_eq!(plan.carried, vec![resolved], "{platforms:?}");
        assert!(!plan.carried[0].referrers.is_empty());
    }
    // A first bundle; then an export that must carry a lock without the fixture's referrer.
    let out = t.path().join("out.tar");
    run_export(&root, &out, 1).unwrap();
    let before = std::fs::read(&out).unwrap();
    let mut checked = lock_all(&root, &[]);
    let gone = checked.referrers.pop().unwrap();
    let mut opts = options(&out, &[], false);
    opts.checked = Some(vec![checked]);
    let target = prepare(&opts.output, false).unwrap();
    match export(&mut sources(&root), &opts, target, None) {
        Err(ExportError::Raced(d)) => {
            assert_eq!(d.len(), 1, "{d:?}");
            assert!(
                matches!(&d[0], lock::Difference::Added { what, .. } if what.contains(&gone.digest)),
                "{d:?}"
            );
        }
        Err(e) => panic!("expected Raced, got {e}"),
        Ok(_) => panic!("expected Raced, got a bundle"),
    }
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the previous output is kept"
    );
    assert!(staging_left(t.path()).is_empty());
}

#[test]
fn a_record_larger_than_verify_reads_is_refused_before_anything_is_written() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    let (planned, _) = plan(
        &mut sources(&root),
        &options(&t.path().join("out"), &[], false),
    )
    .unwrap();
    let (layer, p) = planned.blobs.iter().find(|(_, p)| p.leavable).unwrap();
    // One layer the far side holds, listed with 5 MiB of repository names.
    let names: Vec<String> = (0..100_000)
        .map(|i| format!("registry.site:5000/team/r{i:07}-padding-padding"))
        .collect();
    let out = t.path().join("out.tar");
    let mut opts = options(&out, &[], false);
    opts.since.insert(layer.clone(), (p.desc.size, names));
    let target = prepare(&opts.output, false).unwrap();
    match export(&mut sources(&root), &opts, target, None) {
        Err(ExportError::Usage(Usage::RecordTooLarge {
            what,
            size,
            limit,
            left_out,
            repositories,
            ..
        })) => {
            assert_eq!(what, "export record");
            assert_eq!(limit, Limits::default().max_manifest_bytes);
            assert!(u64::try_from(size).unwrap() > limit);
            assert_eq!((left_out, repositories), (1, 100_000));
        }
        Err(e) => panic!("expected RecordTooLarge, got {e}"),
        Ok(_) => panic!("expected RecordTooLarge, got a bundle"),
    }
    assert!(!out.exists(), "nothing is written");
    assert!(staging_left(t.path()).is_empty());
}

#[test]
fn an_index_of_indexes_is_resolved_for_the_lock_as_the_export_walks_it() {
    let t = tempfile::tempdir().unwrap();
    let (root, top) = layout(t.path());
    // The image's index, wrapped twice: the referrer's subject is a grandchild of the top.
    wrap_image(&root, 2);
    let resolved = lock_all(&root, &[]);
    let (plan, _) = plan(
        &mut sources(&root),
        &options(&t.path().join("out"), &[], false),
    )
    .unwrap();
    assert!(resolved
        .referrers
        .iter()
        .any(|r| r.subject == top.to_string()));
    assert_eq!(plan.carried, vec![resolved]);
}

/// Wraps the first image of the layout at `root` in `times` indexes, each listing the one below:
/// its own index ends up `times` deep, its platform manifests `times + 1`.
fn wrap_image(root: &Path, times: usize) {
    let index_path = root.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut inner = index["manifests"][0].clone();
    inner.as_object_mut().unwrap().remove("annotations");
    for _ in 0..times {
        let wrapper = serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": [inner]}),
        )
        .unwrap();
        let d = Digest::sha256(&wrapper);
        std::fs::write(root.join(crate::layout::blob_path(&d)), &wrapper).unwrap();
        inner =
            json!({"mediaType": model::OCI_INDEX, "digest": d.to_string(), "size": wrapper.len()});
    }
    let mut entry = inner.clone();
    entry["annotations"] = index["manifests"][0]["annotations"].clone();
    index["manifests"][0] = entry;
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
}

#[test]
fn indexes_nested_deeper_than_verification_accepts_are_refused_by_export_and_the_lock_check() {
    // 15 wrappers: platform manifests 16 deep, what verification accepts. The export carries it,
    // and its own verification passes.
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    wrap_image(&root, 15);
    lock_all(&root, &[]);
    let out = t.path().join("out");
    run_export(&root, &out, 1).unwrap();
    let scanned = crate::layout::scan_dir(&out, &crate::layout::ScanOptions::default()).unwrap();
    let req = crate::verify::Request {
        images: Vec::new(),
        verified_at: "2026-01-01T00:00:00Z".into(),
        trust: None,
        left_out_checked_by_caller: false,
    };
    let report = crate::verify::verify_catalog(&scanned, &req, &crate::layout::Limits::default());
    assert_eq!(
        report.verdict,
        crate::verify::Verdict::Pass,
        "{:?}",
        report.failures
    );
    // One more: 17 deep, which verification refuses (nesting_too_deep). Export refuses it before
    // fetching past the limit, and so does the lock check, with the same error (it used to stop
    // at 8 without a word, and export followed any depth: 100,000 overflowed its stack).
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    wrap_image(&root, 16);
    let planned = plan(
        &mut sources(&root),
        &options(&t.path().join("out"), &[], false),
    )
    .err();
    let locked = lock_resolve(&root, &[]).err();
    for (who, e) in [("export", planned), ("the lock check", locked)] {
        let Some(e) = e else {
            panic!("{who} took a 17-deep platform manifest");
        };
        assert!(
            matches!(
                &e,
                ExportError::Source(SourceError::NestedTooDeep { limit: 16, .. })
            ),
            "{who}: {e}"
        );
        assert!(e.to_string().contains("nested deeper than 16"), "{e}");
    }
}

/// What the lock check resolves for the layout at `root` (its first source), with every referrer
/// and the given platforms: what `--lock` records and `--locked` compares.
fn lock_all(root: &std::path::Path, platforms: &[String]) -> lock::LockedImage {
    lock_resolve(root, platforms).unwrap().image
}

/// The lock check's resolution of the layout at `root` (its first source), every referrer wanted.
fn lock_resolve(
    root: &std::path::Path,
    platforms: &[String],
) -> Result<lock::Resolution, ExportError> {
    let all = super::config::Referrers::Word("all".into());
    let want = lock::Wanted {
        platforms,
        referrers: &all,
        require_signature: false,
        identity: None,
    };
    let (given, mut f) = sources(root).remove(0);
    lock::resolve(&given, f.as_mut(), &want)
}

#[test]
fn a_blob_claimed_larger_than_an_export_fetches_is_refused_before_fetching() {
    // The size is the source's word and sets the fetch's deadline: a registry claiming a
    // petabyte layer (sent at a trickle) would choose its own deadline (red team E, E6).
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let cd = Digest::sha256(config);
    std::fs::write(root.join(crate::layout::blob_path(&cd)), config).unwrap();
    let huge = MAX_BLOB_BYTES + 1;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": model::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": cd.to_string(), "size": huge}],
    }))
    .unwrap();
    let md = Digest::sha256(&manifest);
    std::fs::write(root.join(crate::layout::blob_path(&md)), &manifest).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": model::OCI_MANIFEST, "digest": md.to_string(), "size": manifest.len(),
        "annotations": {model::REF_NAME: "1.0"}}]});
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let Err(e) = plan(
        &mut sources(&root),
        &options(&t.path().join("out"), &[], false),
    ) else {
        panic!("a layer of {huge} bytes was planned");
    };
    assert!(
        matches!(&e, ExportError::Source(SourceError::BlobTooLarge { size, .. }) if *size == huge),
        "{e}"
    );
}

/// A source whose referrers listing lies (a name on a referrer, and "notary signature" for
/// whatever it lists), and whose first answer for `config` is other bytes of the same size.
struct Lying {
    inner: LayoutFetch,
    config: Option<String>,
    lied: bool,
}

impl Fetch for Lying {
    fn reference(&self) -> String {
        self.inner.reference()
    }
    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), ExportError> {
        self.inner.resolve()
    }
    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, ExportError> {
        self.inner.manifest(desc)
    }
    fn blob(
        &mut self,
        desc: &Descriptor,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, ExportError> {
        if self.config.as_deref() == Some(desc.digest.as_str()) && !self.lied {
            self.lied = true;
            let mut other = br#"{"architecture":"s390x","os":"windows"}"#.to_vec();
            other.resize(usize::try_from(desc.size).unwrap(), b' ');
            out.write_all(&other).unwrap();
            return Ok(desc.size);
        }
        self.inner.blob(desc, out)
    }
    fn referrers(&mut self, subject: &Descriptor) -> Result<Vec<Descriptor>, ExportError> {
        let mut listed = self.inner.referrers(subject)?;
        for d in &mut listed {
            d.annotations.insert(
                model::REF_NAME.into(),
                "docker.io/library/busybox:latest".into(),
            );
            d.artifact_type = Some(NOTARY_SIGNATURE.into());
        }
        Ok(listed)
    }
}

#[test]
fn a_lying_listing_names_nothing_and_types_nothing_and_a_first_answer_sets_no_platform() {
    // Red team H: H1 (a listing's name on a referrer's index.json entry), its note (a listing's
    // artifact type taken for the referrer's), H5 (an unhashed config setting the platform).
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    let lying = |root: &Path, config: Option<String>| -> Vec<(String, Box<dyn Fetch>)> {
        let inner = LayoutFetch::open(root, None).unwrap();
        vec![(
            format!("oci:{}", root.display()),
            Box::new(Lying {
                inner,
                config,
                lied: false,
            }) as Box<dyn Fetch>,
        )]
    };
    let (planned, referrers) = plan(
        &mut lying(&root, None),
        &options(&t.path().join("out"), &[], false),
    )
    .unwrap();
    let named: Vec<&Value> = planned
        .entries
        .iter()
        .filter(|e| e["annotations"][model::REF_NAME] == "docker.io/library/busybox:latest")
        .collect();
    assert!(named.is_empty(), "{named:?}");
    let listed: Vec<&Descriptor> = referrers.values().flat_map(|(_, v)| v).collect();
    assert!(!listed.is_empty());
    for r in listed {
        assert_ne!(r.artifact_type.as_deref(), Some(NOTARY_SIGNATURE), "{r:?}");
    }

    // A single-platform image whose registry answers the config's first GET with other bytes.
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("single");
    let spec = Spec {
        platforms: vec!["linux/amd64".into()],
        layer_size: 4096,
        referrer: false,
        ..Spec::default()
    };
    let top = generate(&root, &spec).unwrap();
    let index: Value =
        serde_json::from_slice(&std::fs::read(root.join(crate::layout::blob_path(&top))).unwrap())
            .unwrap();
    let mut platform = index["manifests"][0].clone();
    platform["annotations"] = json!({ model::REF_NAME: "1.0" });
    let md = Digest::parse(platform["digest"].as_str().unwrap()).unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join(crate::layout::blob_path(&md))).unwrap())
            .unwrap();
    let config = manifest["config"]["digest"].as_str().unwrap().to_owned();
    std::fs::write(
        root.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [platform]})).unwrap(),
    )
    .unwrap();
    let (planned, _) = plan(
        &mut lying(&root, Some(config)),
        &options(&t.path().join("out"), &[], false),
    )
    .unwrap();
    assert!(
        !planned.images[0]
            .platforms
            .iter()
            .any(|p| p.contains("s390x")),
        "{:?}",
        planned.images[0].platforms
    );
}

/// Red team Q, Q01: the same digest reached from a second source (another tag, another
/// repository) is walked for that source too: its record gets its platforms and its referrers
/// (signatures included), instead of an empty record beside the first.
#[test]
fn a_digest_reached_twice_gets_a_full_record_each_time() {
    let t = tempfile::tempdir().unwrap();
    let (root, top) = layout(t.path());
    let mut two = sources(&root);
    two.extend(sources(&root));
    let opts = options(&t.path().join("out"), &[], false);
    let (plan, referrers) = plan(&mut two, &opts).unwrap();
    assert_eq!(plan.images.len(), 2);
    for image in &plan.images {
        assert_eq!(image.digest, top.to_string());
        assert_eq!(image.platforms, vec!["linux/amd64", "linux/arm64"]);
        assert_eq!(image.referrers.len(), 1, "{:?}", image.referrers);
    }
    // Carried once.
    assert_eq!(referrers.values().map(|(_, r)| r.len()).sum::<usize>(), 1);
}
