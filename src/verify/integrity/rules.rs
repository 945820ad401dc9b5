//! The image-spec's rules for a layout's own files and a document's shape: `oci-layout` (present,
//! JSON, version 1.0.0), `index.json` (present, under the manifest limit, an OCI index) and a
//! manifest or index against the descriptor that named it.

use crate::finding::{Code, Finding};
use crate::layout::model::{self, Document, Kind, OciLayoutFile};
use crate::layout::{Catalog, Small, LAYOUT_VERSION};

/// Describes how a parsed document breaks the image-spec, if it does.
pub(super) fn structure_problem(doc: &Document, mt: &str, kind: Kind) -> Option<String> {
    if let Some(own) = doc.media_type.as_deref() {
        if !mt.is_empty() && own != mt {
            return Some(format!(
                "mediaType {own:?} in the document, {mt:?} in its descriptor"
            ));
        }
    }
    if doc.schema_version != Some(2) {
        return Some(format!(
            "schemaVersion is {:?}, expected 2",
            doc.schema_version
        ));
    }
    if let Some(t) = doc
        .artifact_type
        .as_deref()
        .filter(|t| !model::is_media_type(t))
    {
        return Some(format!(
            "artifactType {t:?} is not a media type (RFC 6838 type/subtype)"
        ));
    }
    let shape = doc.shape();
    match kind {
        Kind::Index if doc.manifests.is_none() => Some("index has no manifests array".into()),
        Kind::Manifest if shape == Kind::Index => {
            Some("descriptor says manifest, content is an index".into())
        }
        Kind::Manifest
            if mt != model::OCI_ARTIFACT_MANIFEST
                && (doc.config.is_none() || doc.layers.is_none()) =>
        {
            Some("image manifest lacks config or layers".into())
        }
        _ => None,
    }
}

/// Judges `oci-layout`: missing, too large, not JSON, or another version.
pub(super) fn check_oci_layout(cat: &Catalog, failures: &mut Vec<Finding>) {
    match &cat.oci_layout {
        None => failures.push(
            Finding::new(Code::OciLayoutMissing, "oci-layout file is missing").path("oci-layout"),
        ),
        Some(Small::TooLarge(n)) => failures.push(
            Finding::new(Code::OciLayoutMalformed, format!("oci-layout is {n} bytes"))
                .path("oci-layout"),
        ),
        Some(Small::Bytes(b)) => match serde_json::from_slice::<OciLayoutFile>(b) {
            Err(e) => failures.push(
                Finding::new(Code::OciLayoutMalformed, format!("oci-layout: {e}"))
                    .path("oci-layout"),
            ),
            Ok(f) if f.image_layout_version != LAYOUT_VERSION => failures.push(
                Finding::new(
                    Code::OciLayoutVersion,
                    format!(
                        "imageLayoutVersion is {:?}, expected {LAYOUT_VERSION:?}",
                        f.image_layout_version
                    ),
                )
                .path("oci-layout"),
            ),
            Ok(_) => {}
        },
    }
}

/// `index.json` as an OCI index, or the finding that says why it is not one.
pub(super) fn parse_index(cat: &Catalog, failures: &mut Vec<Finding>) -> Option<Document> {
    let bytes = match &cat.index_json {
        None => {
            failures
                .push(Finding::new(Code::IndexMissing, "index.json is missing").path("index.json"));
            return None;
        }
        Some(Small::TooLarge(n)) => {
            failures.push(
                Finding::new(
                    Code::IndexMalformed,
                    format!("index.json is {n} bytes, over the manifest limit"),
                )
                .path("index.json"),
            );
            return None;
        }
        Some(Small::Bytes(b)) => b,
    };
    let problem = match Document::parse(bytes) {
        Err(e) => Err(format!("index.json is not a valid image index: {e}")),
        Ok(doc) => match (
            &doc.manifests,
            doc.schema_version,
            doc.media_type.as_deref(),
        ) {
            (None, _, _) => Err("index.json has no manifests array".to_string()),
            (_, v, _) if v != Some(2) => {
                Err(format!("index.json schemaVersion is {v:?}, expected 2"))
            }
            (_, _, Some(mt)) if mt != model::OCI_INDEX => {
                Err(format!("index.json mediaType is {mt:?}"))
            }
            _ => Ok(doc),
        },
    };
    match problem {
        Ok(doc) => Some(doc),
        Err(msg) => {
            failures.push(Finding::new(Code::IndexMalformed, msg).path("index.json"));
            None
        }
    }
}

/// A platform as containerd's `platforms.Normalize` makes it: the OS lowercased; `aarch64` ->
/// `arm64`, `x86_64`/`x86-64` -> `amd64`, `i386` -> `386`, `armhf` -> `arm` `v7`, `armel` -> `arm`
/// `v6`; an arm variant without its `v` gains it; arm64's `v8` (or `8`, `v8.0`) is no variant.
fn normalize(p: &model::Platform) -> model::Platform {
    let os = p.os.to_ascii_lowercase();
    let mut variant = p.variant.clone().filter(|v| !v.is_empty());
    let architecture = match p.architecture.to_ascii_lowercase().as_str() {
        "aarch64" | "arm64" => {
            if matches!(variant.as_deref(), Some("8" | "v8" | "v8.0")) {
                variant = None;
            }
            "arm64".to_owned()
        }
        "x86_64" | "x86-64" | "amd64" => "amd64".to_owned(),
        "i386" => "386".to_owned(),
        "armhf" => {
            variant = Some("v7".into());
            "arm".to_owned()
        }
        "armel" => {
            variant = Some("v6".into());
            "arm".to_owned()
        }
        "arm" => {
            if let Some(v) = variant.as_deref().filter(|v| !v.starts_with('v')) {
                variant = Some(format!("v{v}"));
            }
            "arm".to_owned()
        }
        other => other.to_owned(),
    };
    model::Platform {
        os,
        architecture,
        variant,
        os_version: p.os_version.clone(),
    }
}

/// Image config media types whose `os`/`architecture`/`variant` an index's platform label must
/// agree with.
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// Describes how an index's platform label for a manifest disagrees with that manifest's image
/// config (`config_mt`, `config`), if it does. The label is the index's word; the config is
/// hashed content of the manifest itself: a label that names another platform (an unsigned
/// index a carrier wrote, or a registry's listing) would make the report, `--platform` and every
/// runtime that pulls the tag take one platform for another. `os` and `architecture` must be
/// equal; `variant` only when both state one (Docker's arm64 configs often omit `v8`). A label
/// of `unknown` (BuildKit's attestation manifests) and a config that is not an image config, or
/// states no `os`, are not compared.
pub(super) fn platform_problem(
    label: &model::Platform,
    config_mt: &str,
    config: &[u8],
) -> Option<String> {
    if label.os == "unknown" || !IMAGE_CONFIGS.contains(&config_mt) {
        return None;
    }
    let own: model::ConfigPlatform = serde_json::from_slice(config).ok()?;
    if own.os.is_empty() {
        return None;
    }
    // Compared as containerd compares them (`platforms.Normalize`): `aarch64` is `arm64`,
    // `x86_64` is `amd64`, an arm variant `7` is `v7`, arm64's `v8` (or `8`, `v8.0`) is none.
    let (mut l, o) = (normalize(label), normalize(&own));
    // An arm label without a variant means v7 to containerd: compared with a config that states
    // one (red team L, L03: the variant dropped from the label passed).
    if l.architecture == "arm" && l.variant.is_none() && o.variant.is_some() {
        l.variant = Some("v7".into());
    }
    let (label, own) = (&l, &o);
    let differ = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => !a.is_empty() && !b.is_empty() && a != b,
        _ => false,
    };
    let variants_differ = differ(label.variant.as_deref(), own.variant.as_deref());
    // A Windows host picks the entry whose build matches its own (red team K, K04), and takes an
    // entry that states no build for any (red team L, L03: both labels' builds dropped).
    let unstated = |v: Option<&str>| v.is_none_or(str::is_empty);
    let versions_differ = differ(label.os_version.as_deref(), own.os_version.as_deref())
        || (own.os == "windows"
            && unstated(label.os_version.as_deref())
            && !unstated(own.os_version.as_deref()));
    (label.os != own.os
        || label.architecture != own.architecture
        || variants_differ
        || versions_differ)
        .then(|| {
            let version = |p: &model::Platform| {
                p.os_version
                    .as_deref()
                    .map(|v| format!(" (os.version {v})"))
                    .unwrap_or_default()
            };
            format!(
                "the index labels this manifest {}{}; its config says {}{}",
                label.render(),
                version(label),
                own.render(),
                version(own)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::BundleFormat;

    #[test]
    fn a_windows_label_must_name_the_build_its_config_states() {
        // Red team K, K04: a Windows host picks the entry whose os.version matches its build.
        let label = |v: Option<&str>| model::Platform {
            os: "windows".into(),
            architecture: "amd64".into(),
            variant: None,
            os_version: v.map(str::to_owned),
        };
        let config = br#"{"os":"windows","architecture":"amd64","os.version":"10.0.20348.2461"}"#;
        let mt = "application/vnd.oci.image.config.v1+json";
        assert!(platform_problem(&label(Some("10.0.20348.2461")), mt, config).is_none());
        // A label that states no build matches any host's (red team L, L03).
        assert!(platform_problem(&label(None), mt, config).is_some());
        let why = platform_problem(&label(Some("10.0.17763.5820")), mt, config).unwrap();
        assert!(why.contains("os.version 10.0.20348.2461"), "{why}");
        // An arm label without a variant is v7 to containerd (L03); arm64's v8 is none.
        let arm = |arch: &str, v: Option<&str>| model::Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: v.map(str::to_owned),
            os_version: None,
        };
        let v6 = br#"{"os":"linux","architecture":"arm","variant":"v6"}"#;
        assert!(platform_problem(&arm("arm", None), mt, v6).is_some());
        assert!(platform_problem(&arm("arm", Some("6")), mt, v6).is_none());
        let a64 = br#"{"os":"linux","architecture":"aarch64"}"#;
        assert!(platform_problem(&arm("arm64", Some("v8")), mt, a64).is_none());
    }

    fn cat(oci_layout: Option<&[u8]>, index: Option<Small>) -> Catalog {
        let mut c = Catalog::new(BundleFormat::Directory, true);
        c.oci_layout = oci_layout.map(|b| Small::Bytes(b.to_vec()));
        c.index_json = index;
        c
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn oci_layout_is_judged_by_presence_form_and_version() {
        let cases: [(Option<&[u8]>, Vec<&str>); 4] = [
            (None, vec!["oci_layout_missing"]),
            (Some(b"not json"), vec!["oci_layout_malformed"]),
            (
                Some(br#"{"imageLayoutVersion":"2.0.0"}"#),
                vec!["oci_layout_version"],
            ),
            (Some(br#"{"imageLayoutVersion":"1.0.0"}"#), vec![]),
        ];
        for (bytes, want) in cases {
            let mut f = Vec::new();
            check_oci_layout(&cat(bytes, None), &mut f);
            assert_eq!(codes(&f), want, "{bytes:?}");
        }
        let mut c = cat(None, None);
        c.oci_layout = Some(Small::TooLarge(9));
        let mut f = Vec::new();
        check_oci_layout(&c, &mut f);
        assert_eq!(codes(&f), vec!["oci_layout_malformed"]);
    }

    #[test]
    fn index_json_must_be_an_oci_index() {
        let bad: [(Option<Small>, &str); 5] = [
            (None, "index_missing"),
            (Some(Small::TooLarge(5)), "index_malformed"),
            (
                Some(Small::Bytes(br#"{"schemaVersion":2}"#.to_vec())),
                "index_malformed",
            ),
            (
                Some(Small::Bytes(
                    br#"{"schemaVersion":1,"manifests":[]}"#.to_vec(),
                )),
                "index_malformed",
            ),
            (
                Some(Small::Bytes(
                    br#"{"schemaVersion":2,"mediaType":"x","manifests":[]}"#.to_vec(),
                )),
                "index_malformed",
            ),
        ];
        for (index, want) in bad {
            let mut f = Vec::new();
            assert!(parse_index(&cat(None, index), &mut f).is_none());
            assert_eq!(codes(&f), vec![want]);
        }
        let good = Small::Bytes(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
                .to_vec(),
        );
        let mut f = Vec::new();
        assert!(parse_index(&cat(None, Some(good)), &mut f).is_some());
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_document_must_have_the_shape_its_descriptor_gives() {
        let doc = |s: &str| Document::parse(s.as_bytes()).unwrap();
        let manifest = r#"{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:00","size":1},"layers":[]}"#;
        assert_eq!(
            structure_problem(&doc(manifest), model::OCI_MANIFEST, Kind::Manifest),
            None
        );
        let own = structure_problem(
            &doc(r#"{"schemaVersion":2,"mediaType":"x","manifests":[]}"#),
            model::OCI_INDEX,
            Kind::Index,
        );
        assert!(own.is_some_and(|p| p.starts_with("mediaType")));
        let v1 = structure_problem(&doc(r#"{"schemaVersion":1}"#), "", Kind::Manifest);
        assert!(v1.is_some_and(|p| p.contains("schemaVersion")));
        let no_array = structure_problem(&doc(r#"{"schemaVersion":2}"#), "", Kind::Index);
        assert_eq!(no_array.as_deref(), Some("index has no manifests array"));
        let index_as_manifest = structure_problem(
            &doc(r#"{"schemaVersion":2,"manifests":[]}"#),
            model::OCI_MANIFEST,
            Kind::Manifest,
        );
        assert!(index_as_manifest.is_some_and(|p| p.contains("content is an index")));
        let bare = structure_problem(
            &doc(r#"{"schemaVersion":2,"layers":[]}"#),
            model::OCI_MANIFEST,
            Kind::Manifest,
        );
        assert_eq!(
            bare.as_deref(),
            Some("image manifest lacks config or layers")
        );
    }
}
