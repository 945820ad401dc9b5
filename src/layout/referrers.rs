//! The referrers tag schema (distribution-spec 1.1, "Referrers Tag Schema"): the tag `<alg>-<hex>`
//! under which a registry without the Referrers API, and a bundle's `index.json`, list the
//! referrers (signatures) of a digest. Every reader and writer of such tags uses these functions.

use crate::digest::{Algorithm, Digest};

/// The referrers tag of `d`: `<alg>-<hex>`, the algorithm clipped to 32 and the hex to 64 characters.
pub fn referrers_tag(d: &Digest) -> String {
    let alg = d.algorithm().name();
    let hex = d.hex();
    format!(
        "{}-{}",
        alg.get(..32).unwrap_or(alg),
        hex.get(..64).unwrap_or(hex)
    )
}

/// The referrers tag of a descriptor's digest string; `None` when it is not a supported digest.
pub fn referrers_tag_of(digest: &str) -> Option<String> {
    Digest::parse(digest).ok().map(|d| referrers_tag(&d))
}

/// Whether `name` is the referrers tag of some digest: a supported algorithm, `-`, and the first 64
/// lowercase hex characters of a digest (all of them for SHA-256).
pub fn is_referrers_tag(name: &str) -> bool {
    name.split_once('-').is_some_and(|(alg, hex)| {
        Algorithm::from_name(alg).is_some()
            && hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The subject a referrers tag names whole: `sha256-<hex>` is `sha256:<hex>`. Longer digests are
/// clipped in their tag, so their tag does not name the subject (`None`).
pub fn tag_subject(name: &str) -> Option<Digest> {
    let hex = name.strip_prefix("sha256-")?;
    if !is_referrers_tag(name) {
        return None;
    }
    Digest::parse(&format!("sha256:{hex}")).ok()
}

/// The suffixes of cosign's tag-named artifacts: `sha256-<hex>.sig` (signatures), `.att`
/// (attestations), `.sbom` (SBOMs), each a manifest tagged after the digest it is about.
pub const COSIGN_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// cosign's tags for the artifacts of `d`: `<alg>-<hex>.sig`, `.att`, `.sbom`.
pub fn cosign_tags(d: &Digest) -> Vec<String> {
    let base = referrers_tag(d);
    COSIGN_SUFFIXES
        .iter()
        .map(|s| format!("{base}.{s}"))
        .collect()
}

/// How deep referrers of referrers are followed, and an index referrer's own indexes (a signature
/// of an attestation of an image is depth 2): export carries no deeper, import pushes no deeper.
pub const MAX_REFERRER_DEPTH: usize = 8;

/// True for an `index.json` entry named after another manifest: a referrers tag index
/// (`sha256-<hex>`) or one of cosign's tag-named artifacts (`sha256-<hex>.sig`, `.att`, `.sbom`).
/// Such an entry is about an image, never an image itself.
pub fn names_an_artifact_of_an_image(desc: &super::model::Descriptor) -> bool {
    desc.annotations
        .get(super::model::REF_NAME)
        .is_some_and(|n| is_referrers_tag(n) || cosign_tag_subject(n).is_some())
}

/// The digest a cosign tag (`sha256-<hex>.sig`, `.att`, `.sbom`) is about; `None` for any
/// other name.
pub fn cosign_tag_subject(name: &str) -> Option<Digest> {
    let (base, suffix) = name.rsplit_once('.')?;
    if !COSIGN_SUFFIXES.contains(&suffix) {
        return None;
    }
    tag_subject(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_tags_name_their_subject() {
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        let tags = cosign_tags(&d);
        assert_eq!(tags[0], format!("sha256-{HEX}.sig"));
        for t in &tags {
            assert_eq!(cosign_tag_subject(t), Some(d.clone()), "{t}");
            assert!(!is_referrers_tag(t), "{t}");
        }
        for no in [
            format!("sha256-{HEX}"),
            format!("sha256-{HEX}.sigx"),
            format!("sha256-{HEX}.sig.sig"),
            "latest.sig".to_owned(),
        ] {
            assert_eq!(cosign_tag_subject(&no), None, "{no}");
        }
    }

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tags_follow_the_distribution_spec() {
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(referrers_tag(&d), format!("sha256-{HEX}"));
        assert_eq!(
            referrers_tag_of(&d.to_string()),
            Some(format!("sha256-{HEX}"))
        );
        let d = Digest::of(Algorithm::Sha512, b"x");
        let t = referrers_tag(&d);
        assert_eq!(t, format!("sha512-{}", d.hex().get(..64).unwrap()));
        assert!(t.len() <= 128, "a valid tag");
        assert_eq!(referrers_tag_of("sha256:nothex"), None);
    }

    #[test]
    fn a_tag_is_recognised_only_when_some_digest_has_it() {
        let sha512 = referrers_tag(&Digest::of(Algorithm::Sha512, b"x"));
        for yes in [format!("sha256-{HEX}"), sha512.clone()] {
            assert!(is_referrers_tag(&yes), "{yes}");
        }
        for no in [
            "sha256-".to_owned(),
            "sha256-latest".to_owned(),
            format!("sha256-{}", HEX.to_uppercase()),
            format!("sha256-{HEX}0"),
            format!("md5-{HEX}"),
            format!("sha256:{HEX}"),
            "latest".to_owned(),
        ] {
            assert!(!is_referrers_tag(&no), "{no}");
        }
        assert_eq!(
            tag_subject(&format!("sha256-{HEX}")).map(|d| d.to_string()),
            Some(format!("sha256:{HEX}"))
        );
        assert_eq!(tag_subject(&sha512), None, "a clipped tag names no digest");
        assert_eq!(tag_subject("sha256-latest"), None);
    }
}
