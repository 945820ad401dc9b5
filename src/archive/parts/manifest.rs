//! The parts manifest, `NAME.parts.json`: a map of the parts, not an anchor. Nothing in it is
//! authenticated; it says which files make the stream and what each should hash to, so that a
//! part can be checked the day it arrives and a damaged one named. The verdict on the bundle still
//! comes from re-hashing every blob and the signatures.

use std::io::Read;

use serde::{Deserialize, Serialize};

/// `schemaVersion` of the manifest.
pub const SCHEMA_VERSION: u32 = 1;
/// Its `mediaType`.
pub const MEDIA_TYPE: &str = "application/vnd.airlock.parts.v1+json";
/// The suffix of a manifest's file name (`bundle.tar.zst.parts.json`).
pub const SUFFIX: &str = ".parts.json";
/// Most parts a set may have (a manifest listing more is refused, a writer stops there).
pub const MAX_PARTS: usize = 100_000;
/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 32 << 20;

/// The tool that wrote a manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ToolInfo {
    /// `airlock`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Which bundle the parts carry: what an operator matches against a transfer ticket.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The sha256 of the bundle's `index.json` (the report's `bundleDigest`).
    pub index_digest: Option<String>,
    /// The trust artifact digest, the `--pin` export printed (when the bundle carries trust
    /// material).
    pub pin: Option<String>,
}

/// One part.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartEntry {
    /// Its file name, in the manifest's folder.
    pub name: String,
    /// Where it starts in the stream.
    pub offset: u64,
    /// Its length.
    pub size: u64,
    /// `sha256:HEX` of its bytes.
    pub sha256: String,
}

/// `NAME.parts.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PartsManifest {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`MEDIA_TYPE`].
    pub media_type: String,
    /// Who wrote it.
    pub tool: ToolInfo,
    /// The whole stream's file name (`bundle.tar.zst`).
    pub name: String,
    /// The whole stream's length.
    pub size: u64,
    /// `sha256:HEX` of the whole stream (what `sha256sum` of the single file gives).
    pub sha256: String,
    /// The largest a part may be (every part but the last has exactly this size).
    pub part_size: u64,
    /// The bundle the parts carry.
    pub bundle: Identity,
    /// The parts, in stream order.
    pub parts: Vec<PartEntry>,
}

/// The file name of part `number` (1-based) of `name`: `name.001` ... `name.999`, `name.1000`.
pub fn part_name(name: &str, number: usize) -> String {
    format!("{name}.{number:03}")
}

/// The part number a file name carries for `name` (`name.007` -> 7), if it is one.
pub fn part_number(name: &str, file: &str) -> Option<usize> {
    let rest = file.strip_prefix(name)?.strip_prefix('.')?;
    if rest.len() < 3 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|n| *n > 0)
}

/// A file name that stays in its folder: no separator, not `.` or `..`, not empty, no NUL.
pub fn plain_file_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.contains('/')
        && !s.contains('\\')
        && !s.contains('\0')
}

/// Reads and checks a manifest: the schema, plain file names, contiguous offsets that add up to
/// the stream's size, each part at most `partSize`, well-formed digests, at most [`MAX_PARTS`].
pub fn parse<R: Read>(r: R) -> Result<PartsManifest, String> {
    let mut bytes = Vec::new();
    r.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_MANIFEST_BYTES {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    let m: PartsManifest = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    check(&m)?;
    Ok(m)
}

fn sha256_ok(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The rules [`parse`] applies.
pub fn check(m: &PartsManifest) -> Result<(), String> {
    if m.schema_version != SCHEMA_VERSION || m.media_type != MEDIA_TYPE {
        return Err(format!(
            "not an airlock parts manifest of schema {SCHEMA_VERSION} ({MEDIA_TYPE})"
        ));
    }
    if !plain_file_name(&m.name) {
        return Err(format!(
            "the stream name {:?} is not a plain file name",
            m.name
        ));
    }
    if m.parts.len() > MAX_PARTS {
        return Err(format!("{} parts (at most {MAX_PARTS})", m.parts.len()));
    }
    if !sha256_ok(&m.sha256) {
        return Err(format!(
            "the stream digest {:?} is not sha256:<64 hex>",
            m.sha256
        ));
    }
    let mut at = 0u64;
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in m.parts.iter().enumerate() {
        let n = i + 1;
        if !plain_file_name(&p.name) || p.name.starts_with('.') {
            return Err(format!("part {n}: {:?} is not a plain file name", p.name));
        }
        if !seen.insert(p.name.as_str()) {
            return Err(format!("part {n}: {} is listed twice", p.name));
        }
        if p.offset != at {
            return Err(format!(
                "part {n} ({}) starts at {}, the previous part ends at {at}",
                p.name, p.offset
            ));
        }
        if p.size > m.part_size || p.size == 0 {
            return Err(format!(
                "part {n} ({}) is {} bytes (parts hold 1 to {} bytes)",
                p.name, p.size, m.part_size
            ));
        }
        if !sha256_ok(&p.sha256) {
            return Err(format!(
                "part {n}: digest {:?} is not sha256:<64 hex>",
                p.sha256
            ));
        }
        at = at
            .checked_add(p.size)
            .ok_or_else(|| format!("part {n}: offsets overflow"))?;
    }
    if at != m.size {
        return Err(format!(
            "the parts add up to {at} bytes, the stream is {} bytes",
            m.size
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(part_name("b.tar", 1), "b.tar.001");
        assert_eq!(part_name("b.tar", 1000), "b.tar.1000");
        assert_eq!(part_number("b.tar", "b.tar.007"), Some(7));
        assert_eq!(part_number("b.tar", "b.tar.1000"), Some(1000));
        assert_eq!(part_number("b.tar", "b.tar.07"), None);
        assert_eq!(part_number("b.tar", "b.tar.000"), None);
        assert_eq!(part_number("b.tar", "b.tar.parts.json"), None);
        assert_eq!(part_number("b.tar", "c.tar.001"), None);
        assert!(!plain_file_name("../x"));
        assert!(!plain_file_name(".."));
        assert!(plain_file_name("b.tar.001"));
    }

    fn sample() -> PartsManifest {
        let d = format!("sha256:{}", "a".repeat(64));
        PartsManifest {
            schema_version: SCHEMA_VERSION,
            media_type: MEDIA_TYPE.into(),
            tool: ToolInfo {
                name: "airlock".into(),
                version: "0".into(),
            },
            name: "b.tar".into(),
            size: 15,
            sha256: d.clone(),
            part_size: 10,
            bundle: Identity::default(),
            parts: vec![
                PartEntry {
                    name: "b.tar.001".into(),
                    offset: 0,
                    size: 10,
                    sha256: d.clone(),
                },
                PartEntry {
                    name: "b.tar.002".into(),
                    offset: 10,
                    size: 5,
                    sha256: d,
                },
            ],
        }
    }

    #[test]
    fn checks() {
        let m = sample();
        check(&m).unwrap();
        let bytes = serde_json::to_vec(&m).unwrap();
        assert_eq!(parse(&bytes[..]).unwrap(), m);
        let mut bad = m.clone();
        bad.parts[1].offset = 11;
        assert!(check(&bad).is_err());
        let mut bad = m.clone();
        bad.parts[1].name = "../etc/passwd".into();
        assert!(check(&bad).is_err());
        let mut bad = m.clone();
        bad.parts[1].name = "b.tar.001".into();
        assert!(check(&bad).is_err());
        let mut bad = m.clone();
        bad.size = 16;
        assert!(check(&bad).is_err());
        let mut bad = m.clone();
        bad.parts[0].size = 11;
        bad.parts[1].offset = 11;
        bad.size = 16;
        assert!(check(&bad).is_err());
        let mut bad = m;
        bad.parts[0].sha256 = "sha256:AB".into();
        assert!(check(&bad).is_err());
    }
}
