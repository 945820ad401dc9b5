//! How Go's `encoding/json` reads a JSON document into a struct, where that differs from airlock's
//! exact reading: the registries, containerd, skopeo and notation are Go programs, so a document
//! they read one way and airlock another would be judged by airlock as something else than what
//! they act on.
//!
//! * Keys match fields **ignoring case** (Unicode simple folding), and the last match wins:
//!   `"Digest"`, `"DIGEST"` and `"dige\u{17f}t"` are all `digest` to Go. airlock reads the exact
//!   name and ignores the others, so a key that is not a field's exact name but that Go matches to
//!   it is refused ([`confusable_in`]).
//! * `[]byte` fields are standard base64 with padding, where Go skips `\r` and `\n` and accepts
//!   non-zero trailing bits ([`go_base64`]).
//! * OCI descriptors and platforms (`ocispec.Descriptor`, `ocispec.Platform`) are typed: a field
//!   of the wrong JSON type fails the whole decode, `null` leaves a field empty
//!   ([`descriptor_problem`]).
//!
//! A leaf module: the bundle layer ([`crate::layout`]) and the Notary rules ([`crate::notary`])
//! both use it.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Value};

/// The fields of an OCI descriptor (`ocispec.Descriptor`).
pub const DESCRIPTOR_FIELDS: &[&str] = &[
    "mediaType",
    "digest",
    "size",
    "artifactType",
    "annotations",
    "platform",
    "urls",
    "data",
];

/// The fields of an OCI platform (`ocispec.Platform`).
pub const PLATFORM_FIELDS: &[&str] = &[
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "features",
];

/// One character as Go's key matching folds it: ASCII letters to lower case, and the two
/// non-ASCII runes whose simple case folding reaches an ASCII letter, KELVIN SIGN (`K`, to `k`)
/// and LATIN SMALL LETTER LONG S (`ſ`, to `s`).
fn fold(c: char) -> char {
    match c {
        '\u{212A}' => 'k',
        '\u{17F}' => 's',
        c => c.to_ascii_lowercase(),
    }
}

/// True when Go's `encoding/json` matches the key `key` to a field named `field` (all of airlock's
/// field names are ASCII).
pub fn go_matches(key: &str, field: &str) -> bool {
    key.chars().map(fold).eq(field.chars().map(fold))
}

/// Why the object `o`, read into a struct with the fields `fields`, would be read differently by
/// Go than by airlock: a key that is not one of `fields` but that Go matches to one of them
/// (`at` names the object in the message).
pub fn confusable_in(o: &Map<String, Value>, fields: &[&str], at: &str) -> Option<String> {
    first_confusable(o.keys().map(String::as_str), fields).map(|(key, field)| {
        format!(
            "{at} has the key {key:?} besides or instead of {field:?}: Go's JSON decoders \
             read it as {field:?} (they match keys ignoring case), airlock would not"
        )
    })
}

/// The first of `keys` that is not one of `fields` but that Go matches to one of them, with that
/// field.
pub fn first_confusable<'k, 'f>(
    keys: impl IntoIterator<Item = &'k str>,
    fields: &[&'f str],
) -> Option<(&'k str, &'f str)> {
    keys.into_iter()
        .filter(|key| !fields.contains(key))
        .find_map(|key| {
            fields
                .iter()
                .find(|f| go_matches(key, f))
                .map(|field| (key, *field))
        })
}

/// Standard base64 as Go's `encoding/json` decodes a `[]byte` field: padding required, `\r` and
/// `\n` skipped, non-zero trailing bits accepted.
pub fn go_base64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    if s.contains(['\r', '\n']) {
        let joined: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        GO_STD.decode(joined)
    } else {
        GO_STD.decode(s)
    }
}

fn string_or_null(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Null)
}

fn strings_or_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(list) => list.iter().all(Value::is_string),
        _ => false,
    }
}

/// Why Go's `ocispec.Descriptor` decode of `d` fails or reads other fields than airlock's, if it
/// does: the object's keys ([`confusable_in`], the platform's too) and the types of the fields
/// airlock does not read itself (`urls` a list of strings, `data` base64, `platform` an object of
/// strings and lists of strings; each may be `null`).
pub fn descriptor_problem(d: &Value, at: &str) -> Option<String> {
    let Some(o) = d.as_object() else {
        return Some(format!("{at} is not a JSON object"));
    };
    if let Some(why) = confusable_in(o, DESCRIPTOR_FIELDS, at) {
        return Some(why);
    }
    if let Some(v) = o.get("urls").filter(|v| !strings_or_null(v)) {
        return Some(format!("{at}.urls is not a list of strings: {v}"));
    }
    match o.get("data") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if let Err(e) = go_base64(s) {
                return Some(format!("{at}.data is not base64: {e}"));
            }
        }
        Some(v) => return Some(format!("{at}.data is not a base64 string: {v}")),
    }
    match o.get("platform") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => {
            let at = format!("{at}.platform");
            if let Some(why) = confusable_in(p, PLATFORM_FIELDS, &at) {
                return Some(why);
            }
            for (k, v) in p {
                let ok = match k.as_str() {
                    "architecture" | "os" | "os.version" | "variant" => string_or_null(v),
                    "os.features" | "features" => strings_or_null(v),
                    _ => true,
                };
                if !ok {
                    return Some(format!("{at}.{k} has the wrong type: {v}"));
                }
            }
            None
        }
        Some(_) => Some(format!("{at}.platform is not a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keys_match_as_go_matches_them() {
        for key in ["digest", "Digest", "DIGEST", "dige\u{17f}t", "DIGE\u{17f}T"] {
            assert!(go_matches(key, "digest"), "{key}");
        }
        assert!(go_matches("\u{212A}ey", "key"));
        assert!(go_matches("IO.CNCF.NOTARY.EXPIRY", "io.cncf.notary.expiry"));
        for key in ["digests", "dígest", "diges", "d\u{130}gest"] {
            assert!(!go_matches(key, "digest"), "{key}");
        }
        let o: Map<String, Value> = serde_json::from_str(r#"{"digest":"a","Digest":"b"}"#).unwrap();
        let why = confusable_in(&o, DESCRIPTOR_FIELDS, "the descriptor").unwrap();
        assert!(why.contains("\"Digest\""), "{why}");
        let o: Map<String, Value> = serde_json::from_str(r#"{"digest":"a","x":"b"}"#).unwrap();
        assert_eq!(confusable_in(&o, DESCRIPTOR_FIELDS, "d"), None);
    }

    #[test]
    fn base64_as_go_decodes_a_byte_slice() {
        assert_eq!(go_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(go_base64("aGVs\r\nbG8=").unwrap(), b"hello");
        assert_eq!(go_base64("aGVsbG9=").unwrap(), b"hello", "trailing bits");
        assert!(go_base64("aGVsbG8").is_err(), "padding is required");
        assert!(go_base64("aGVsbG8_").is_err(), "not the URL alphabet");
        assert!(go_base64("aGVs bG8=").is_err(), "a space is not skipped");
    }

    #[test]
    fn descriptors_are_typed_as_go_types_them() {
        let ok = |s: &str| descriptor_problem(&serde_json::from_str(s).unwrap(), "d");
        assert_eq!(
            ok(r#"{"digest":"x","urls":null,"data":null,"platform":null}"#),
            None
        );
        assert_eq!(
            ok(r#"{"urls":["u"],"data":"aGk=","platform":{"os":"linux","features":["f"],"x":1}}"#),
            None
        );
        for bad in [
            r#"{"urls":"u"}"#,
            r#"{"urls":[1]}"#,
            r#"{"data":"!!!"}"#,
            r#"{"data":1}"#,
            r#"{"platform":"linux"}"#,
            r#"{"platform":{"os":1}}"#,
            r#"{"platform":{"features":"f"}}"#,
            r#"{"platform":{"OS":"linux"}}"#,
            r#"{"Size":1}"#,
            r#"[]"#,
        ] {
            assert!(ok(bad).is_some(), "{bad}");
        }
    }
}
