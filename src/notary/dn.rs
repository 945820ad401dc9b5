//! Distinguished names for `x509.subject:` trusted identities.
//!
//! Two sources produce a [`DistinguishedName`]:
//!
//! - [`DistinguishedName::parse`] reads the value of a trust policy's `x509.subject:` identity, an
//!   RFC 4514 string such as `C=US, ST=WA, O=acme, CN=builder`, with notation's rules
//!   (notation-go `internal/pkix.ParseDistinguishedName`): no `=#` hex values, no multi-valued
//!   RDNs, no attribute type twice, `S` read as `ST`, and `C`, `ST` and `O` mandatory. Attribute
//!   types are otherwise compared literally: `cn=` never matches `CN` (SPEC-NOTES errata 11).
//! - [`DistinguishedName::from_subject`] reads a certificate's subject the way notation sees it
//!   (Go's `pkix.Name.String()` re-parsed by the same parser): only the nine attribute types Go
//!   names (`C`, `ST`, `L`, `STREET`, `POSTALCODE`, `O`, `OU`, `CN`, `SERIALNUMBER`) can be
//!   matched; any other type or a repeated type (CN included) makes the subject unusable, and a
//!   multi-valued RDN of distinct types is flattened into its attributes (SPEC-NOTES erratum 19).
//!
//! Matching is a subset test ([`DistinguishedName::is_subset_of`]): every attribute of the
//! identity must be present in the subject with an exactly equal (case-sensitive, unescaped)
//! value. [`DistinguishedName::overlaps`] is the specification's overlap rule (SPEC-NOTES errata
//! 10): two identities overlap when some certificate could match both.

use std::fmt;

use const_oid::db::rfc4519;
use const_oid::ObjectIdentifier;
use der::{Any, Tag, Tagged};
use x509_cert::name::Name;

/// The attribute types every `x509.subject` identity must carry.
pub const MANDATORY_ATTRIBUTES: [&str; 3] = ["C", "ST", "O"];

/// The certificate subject attribute types notation can match, by OID, with the names Go's
/// `crypto/x509/pkix` prints for them.
const SUBJECT_TYPES: [(ObjectIdentifier, &str); 9] = [
    (rfc4519::C, "C"),
    (rfc4519::ST, "ST"),
    (rfc4519::L, "L"),
    (rfc4519::STREET, "STREET"),
    (rfc4519::POSTAL_CODE, "POSTALCODE"),
    (rfc4519::O, "O"),
    (rfc4519::OU, "OU"),
    (rfc4519::CN, "CN"),
    (rfc4519::SERIAL_NUMBER, "SERIALNUMBER"),
];

/// Why a distinguished name (a policy identity or a certificate subject) cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnError {
    /// The identity contains `=#`: hex-encoded BER values are not supported (notation-go #276).
    #[error(
        "distinguished name {dn:?} contains \"=#\": hex-encoded attribute values are not supported"
    )]
    HexValue {
        /// The offending DN.
        dn: String,
    },
    /// The string breaks the RFC 4514 grammar (empty RDN, missing `=`, dangling separator).
    #[error("distinguished name {dn:?} is not valid RFC 4514: {reason}")]
    Syntax {
        /// The offending DN.
        dn: String,
        /// What is wrong.
        reason: String,
    },
    /// A character that RFC 4514 requires to be escaped appears unescaped.
    #[error(
        "distinguished name {dn:?} has an unescaped {character:?}; escape it with a backslash"
    )]
    UnescapedCharacter {
        /// The offending DN.
        dn: String,
        /// The character.
        character: char,
    },
    /// A backslash is not followed by a special character or two hex digits, or the unescaped
    /// bytes are not UTF-8.
    #[error("distinguished name {dn:?} has an invalid escape: {reason}")]
    InvalidEscape {
        /// The offending DN.
        dn: String,
        /// What is wrong.
        reason: String,
    },
    /// An attribute type is neither a name (`CN`) nor a dotted OID.
    #[error("distinguished name {dn:?} has an invalid attribute type {attribute:?}")]
    InvalidAttributeType {
        /// The offending DN.
        dn: String,
        /// The attribute type as written.
        attribute: String,
    },
    /// An attribute has an empty value.
    #[error("distinguished name {dn:?} has an empty value for attribute {attribute:?}")]
    EmptyValue {
        /// The offending DN.
        dn: String,
        /// The attribute type.
        attribute: String,
    },
    /// An RDN holds several attributes joined with `+`.
    #[error("distinguished name {dn:?} has a multi-valued RDN, which is not supported")]
    MultiValuedRdn {
        /// The offending DN (for a certificate, its subject as read).
        dn: String,
    },
    /// The same attribute type appears twice (`S` counts as `ST`).
    #[error("distinguished name {dn:?} has attribute {attribute:?} more than once")]
    DuplicateAttribute {
        /// The offending DN.
        dn: String,
        /// The repeated attribute type.
        attribute: String,
    },
    /// One of `C`, `ST`, `O` is missing.
    #[error("distinguished name {dn:?} lacks the mandatory attribute {attribute:?} (C, ST and O are required)")]
    MissingMandatory {
        /// The offending DN.
        dn: String,
        /// The missing attribute type.
        attribute: &'static str,
    },
    /// A certificate subject has an attribute type notation cannot match (Go prints it as
    /// `OID=#hex`, which notation refuses).
    #[error("certificate subject attribute {oid} is not supported for identity matching")]
    UnsupportedSubjectAttribute {
        /// The attribute's OID.
        oid: String,
    },
    /// A certificate subject value is not a string type notation reads, or is malformed.
    #[error(
        "certificate subject attribute {attribute} has an unsupported or malformed value: {reason}"
    )]
    UnsupportedSubjectValue {
        /// The attribute type.
        attribute: &'static str,
        /// What is wrong.
        reason: String,
    },
}

crate::notary::reason::reasons! {
    /// Why a distinguished name or subject was refused.
    pub enum DnReason {
        /// `subject_unsupported`.
        SubjectUnsupported => "subject_unsupported",
        /// `dn_invalid`.
        DnInvalid => "dn_invalid",
    }
}

impl DnError {
    /// Stable reason code: `dn_invalid` for a policy identity, `subject_unsupported` for a
    /// certificate subject that cannot be matched.
    pub fn reason(&self) -> DnReason {
        match self {
            DnError::UnsupportedSubjectAttribute { .. }
            | DnError::UnsupportedSubjectValue { .. } => DnReason::SubjectUnsupported,
            _ => DnReason::DnInvalid,
        }
    }

    /// The stable string of [`Self::reason`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }
}

/// A distinguished name reduced to what notation compares: attribute type to value, each type
/// at most once, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinguishedName {
    attributes: Vec<(String, String)>,
}

impl DistinguishedName {
    /// Parses the value of an `x509.subject:` trusted identity (the text after the prefix).
    pub fn parse(dn: &str) -> Result<Self, DnError> {
        if dn.contains("=#") {
            return Err(DnError::HexValue { dn: dn.to_owned() });
        }
        let prepared = prepare(dn)?;
        let mut attributes: Vec<(String, String)> = Vec::new();
        for rdn in ldapdn::parse::dn_from_str(&prepared) {
            let rdn = rdn.map_err(|_| syntax(dn, "empty RDN"))?;
            let mut atavs = rdn;
            let (raw_type, raw_value) = match atavs.next() {
                None => return Err(syntax(dn, "empty RDN")),
                Some(atav) => {
                    atav.map_err(|_| syntax(dn, "an attribute lacks its \"type=value\" form"))?
                }
            };
            if atavs.next().is_some() {
                return Err(DnError::MultiValuedRdn { dn: dn.to_owned() });
            }
            let kind = attribute_type(dn, raw_type)?;
            let value = attribute_value(dn, &kind, raw_value)?;
            if attributes.iter().any(|(k, _)| *k == kind) {
                return Err(DnError::DuplicateAttribute {
                    dn: dn.to_owned(),
                    attribute: kind,
                });
            }
            attributes.push((kind, value));
        }
        let parsed = DistinguishedName { attributes };
        for attribute in MANDATORY_ATTRIBUTES {
            if parsed.get(attribute).is_none() {
                return Err(DnError::MissingMandatory {
                    dn: dn.to_owned(),
                    attribute,
                });
            }
        }
        Ok(parsed)
    }

    /// Reads a certificate subject as notation sees it for identity matching.
    ///
    /// Fails when notation's own matching would fail: an attribute type outside the nine Go
    /// names, a repeated type (also inside a multi-valued RDN, and also CN), a value that is not a
    /// string Go reads, or one containing NUL or `=#`. A multi-valued RDN of distinct types is
    /// flattened, as Go's `Name.String` does.
    pub fn from_subject(name: &Name) -> Result<Self, DnError> {
        let mut attributes: Vec<(String, String)> = Vec::new();
        // SPEC-NOTES erratum 19: Go's `Name.String` rebuilds the subject from parsed fields, so a
        // multi-valued RDN of distinct types (`ST=WA+O=acme`) reaches notation's matcher as
        // separate attributes: flatten it. A repeated type still fails below (Go would print it
        // as one multi-valued RDN, which notation's parser refuses; for CN, where Go keeps the
        // last value, refusing is the safer choice: DIVERGENCE).
        for atav in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
            let kind = SUBJECT_TYPES
                .iter()
                .find(|(oid, _)| *oid == atav.oid)
                .map(|(_, kind)| *kind)
                .ok_or_else(|| DnError::UnsupportedSubjectAttribute {
                    oid: atav.oid.to_string(),
                })?;
            let value = subject_string(kind, &atav.value)?;
            if value.contains('\0') || value.contains("=#") {
                return Err(DnError::UnsupportedSubjectValue {
                    attribute: kind,
                    reason: "contains NUL or \"=#\", which notation cannot re-parse".to_owned(),
                });
            }
            if attributes.iter().any(|(k, _)| k == kind) {
                return Err(DnError::DuplicateAttribute {
                    dn: name.to_string(),
                    attribute: kind.to_owned(),
                });
            }
            attributes.push((kind.to_owned(), value));
        }
        Ok(DistinguishedName { attributes })
    }

    /// The value of attribute type `kind` (compared literally; `ST`, not `S`).
    pub fn get(&self, kind: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.as_str())
    }

    /// The attributes as `(type, value)` pairs, in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.attributes.len()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    /// Whether every attribute of `self` is present in `other` with an equal value: the identity
    /// match (`self` is the policy identity, `other` the certificate subject).
    pub fn is_subset_of(&self, other: &DistinguishedName) -> bool {
        self.iter().all(|(k, v)| other.get(k) == Some(v))
    }

    /// Whether some certificate subject could match both `self` and `other`: no attribute type
    /// present in both carries different values (SPEC-NOTES errata 10).
    pub fn overlaps(&self, other: &DistinguishedName) -> bool {
        self.iter()
            .all(|(k, v)| other.get(k).is_none_or(|w| w == v))
    }
}

impl fmt::Display for DistinguishedName {
    /// RFC 4514 form, attributes in stored order, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, value)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{kind}=")?;
            let last = value.chars().count().saturating_sub(1);
            for (j, c) in value.chars().enumerate() {
                if c.is_ascii_control() {
                    // NUL and the other controls: hex escape (the parser refuses them raw).
                    write!(f, "\\{:02X}", u32::from(c))?;
                    continue;
                }
                let escape = match c {
                    // `#` anywhere: a value containing `=#` would read as a hex value.
                    ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '#' => true,
                    ' ' => j == 0 || j == last,
                    _ => false,
                };
                if escape {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

fn syntax(dn: &str, reason: &str) -> DnError {
    DnError::Syntax {
        dn: dn.to_owned(),
        reason: reason.to_owned(),
    }
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\'
    )
}

/// Checks escapes and characters that must be escaped, and rewrites an escaped space as `\20`
/// so that ldapdn's trimming keeps it (ldapdn trims values before it unescapes them, which
/// would lose a significant trailing `\ `).
fn prepare(dn: &str) -> Result<String, DnError> {
    let mut out = String::with_capacity(dn.len());
    let mut chars = dn.chars().peekable();
    let mut last_significant: Option<char> = None;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    return Err(DnError::InvalidEscape {
                        dn: dn.to_owned(),
                        reason: "a backslash ends the string".to_owned(),
                    });
                };
                if next == ' ' {
                    out.push_str("\\20");
                } else if is_special(next) {
                    out.push('\\');
                    out.push(next);
                } else if next.is_ascii_hexdigit() {
                    match chars.next() {
                        Some(low) if low.is_ascii_hexdigit() => {
                            out.push('\\');
                            out.push(next);
                            out.push(low);
                        }
                        _ => {
                            return Err(DnError::InvalidEscape {
                                dn: dn.to_owned(),
                                reason: format!(
                                    "\"\\{next}\" is not followed by a second hex digit"
                                ),
                            })
                        }
                    }
                } else {
                    return Err(DnError::InvalidEscape {
                        dn: dn.to_owned(),
                        reason: format!("\"\\{next}\" escapes a character that needs no escape"),
                    });
                }
                last_significant = Some('\\');
            }
            '"' | ';' | '<' | '>' => {
                return Err(DnError::UnescapedCharacter {
                    dn: dn.to_owned(),
                    character: c,
                })
            }
            c if c.is_ascii_control() => {
                return Err(DnError::UnescapedCharacter {
                    dn: dn.to_owned(),
                    character: c,
                })
            }
            _ => {
                if c != ' ' {
                    last_significant = Some(c);
                }
                out.push(c);
            }
        }
    }
    if matches!(last_significant, Some(',') | Some('+')) {
        return Err(syntax(dn, "the string ends with a separator"));
    }
    Ok(out)
}

/// An attribute type as RFC 4514 allows it: a keyword (`ALPHA *(ALPHA / DIGIT / "-")`) or a
/// dotted OID. `S` is notation's alias for `ST`; nothing else is normalised.
fn attribute_type(dn: &str, raw: &str) -> Result<String, DnError> {
    let keyword = raw.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !raw.is_empty()
        && raw.split('.').all(|arc| {
            !arc.is_empty()
                && arc.chars().all(|c| c.is_ascii_digit())
                && (arc == "0" || !arc.starts_with('0'))
        });
    if !keyword && !oid {
        return Err(DnError::InvalidAttributeType {
            dn: dn.to_owned(),
            attribute: raw.to_owned(),
        });
    }
    Ok(if raw == "S" {
        "ST".to_owned()
    } else {
        raw.to_owned()
    })
}

fn attribute_value(dn: &str, kind: &str, raw: &str) -> Result<String, DnError> {
    if raw.starts_with('#') {
        return Err(DnError::HexValue { dn: dn.to_owned() });
    }
    let value = ldapdn::escape::unescape_ldap_value_string_cow(raw)
        .map_err(|_| DnError::InvalidEscape {
            dn: dn.to_owned(),
            reason: format!("the value of {kind:?} does not unescape to UTF-8"),
        })?
        .into_owned();
    if value.is_empty() {
        return Err(DnError::EmptyValue {
            dn: dn.to_owned(),
            attribute: kind.to_owned(),
        });
    }
    Ok(value)
}

/// Decodes a subject attribute value with the string types Go's `crypto/x509` accepts.
fn subject_string(kind: &'static str, value: &Any) -> Result<String, DnError> {
    go_name_string(value).map_err(|reason| DnError::UnsupportedSubjectValue {
        attribute: kind,
        reason,
    })
}

/// An attribute value of a certificate's Name as Go's `crypto/x509` (`parseASN1String`, current
/// releases) reads it, or why Go refuses it. Go applies this to every attribute of the issuer and
/// the subject when it parses a certificate, and a refusal fails the whole parse, so notation
/// cannot read such a certificate at all ([`super::x509::Certificate::from_der`] refuses it too;
/// red team N, N01). TeletexString is Latin-1, byte by byte (as BoringSSL; red team N, N03: it was
/// read as UTF-8); UTF8String must be valid; PrintableString, IA5String and NumericString keep to
/// their alphabets (PrintableString with `*` and `&`); BMPString is UCS-2: an even length, one
/// trailing NUL dropped, and no surrogates (`U+D800`-`U+DFFF`) or permanent noncharacters
/// (`U+FDD0`-`U+FDEF`, `U+FFFE`, `U+FFFF`). Any other type is refused.
pub fn go_name_string(value: &Any) -> Result<String, String> {
    let bytes = value.value();
    let ascii = |ok: fn(u8) -> bool, what: &str| {
        if bytes.iter().all(|b| ok(*b)) {
            // ASCII only, so valid UTF-8.
            Ok(bytes.iter().map(|b| char::from(*b)).collect())
        } else {
            Err(format!("invalid {what}"))
        }
    };
    match value.tag() {
        Tag::TeletexString => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
        Tag::Utf8String => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| "invalid UTF-8 string".to_owned()),
        Tag::PrintableString => ascii(is_go_printable, "PrintableString"),
        Tag::Ia5String => ascii(|b| b.is_ascii(), "IA5String"),
        Tag::NumericString => ascii(|b| b.is_ascii_digit() || b == b' ', "NumericString"),
        Tag::BmpString => {
            let (units, rest) = bytes.as_chunks::<2>();
            if !rest.is_empty() {
                return Err("invalid BMPString: odd length".to_owned());
            }
            let mut units: Vec<u16> = units.iter().map(|u| u16::from_be_bytes(*u)).collect();
            // Go drops one trailing NUL terminator.
            if units.last() == Some(&0) {
                units.pop();
            }
            if units.iter().any(|&u| {
                u == 0xfffe
                    || u == 0xffff
                    || (0xfdd0..=0xfdef).contains(&u)
                    || (0xd800..=0xdfff).contains(&u)
            }) {
                return Err("invalid BMPString: a surrogate or a noncharacter".to_owned());
            }
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| "invalid BMPString".to_owned())
        }
        other => Err(format!("unsupported string type: {other}")),
    }
}

/// Go's `isPrintable`: the PrintableString alphabet plus `*` and `&`, which real certificates use.
fn is_go_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use der::asn1::SetOfVec;
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

    use super::*;

    fn dn(s: &str) -> DistinguishedName {
        DistinguishedName::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn err(s: &str) -> DnError {
        match DistinguishedName::parse(s) {
            Ok(d) => panic!("{s:?} should not parse, got {d:?}"),
            Err(e) => e,
        }
    }

    fn subject(s: &str) -> Result<DistinguishedName, DnError> {
        DistinguishedName::from_subject(&Name::from_str(s).unwrap())
    }

    #[test]
    fn parses_spec_example_with_spaces() {
        let d = dn("C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder");
        let got: Vec<_> = d.iter().collect();
        assert_eq!(
            got,
            [
                ("C", "US"),
                ("ST", "WA"),
                ("L", "Seattle"),
                ("O", "acme-rockets.io"),
                ("OU", "Finance"),
                ("CN", "SecureBuilder")
            ]
        );
        assert_eq!(d.len(), 6);
        assert!(!d.is_empty());
    }

    #[test]
    fn s_is_an_alias_of_st() {
        let d = dn("C=US,S=California,O=Notary Project");
        assert_eq!(d.get("ST"), Some("California"));
        assert_eq!(d.get("S"), None);
        assert!(matches!(
            err("C=US,ST=California,O=Notary Project,S=California"),
            DnError::DuplicateAttribute { attribute, .. } if attribute == "ST"
        ));
    }

    #[test]
    fn mandatory_attributes() {
        for (s, missing) in [
            ("ST=WA,O=x", "C"),
            ("C=US,O=x", "ST"),
            ("C=US,ST=WA", "O"),
            ("CN=e2e,O=Notary,L=Seattle,ST=WA", "C"),
            ("CN=e2e,L=Seattle,ST=WA,C=US", "O"),
            ("", "C"),
            (" ", "C"),
        ] {
            assert!(
                matches!(err(s), DnError::MissingMandatory { attribute, .. } if attribute == missing),
                "{s}"
            );
        }
    }

    #[test]
    fn attribute_types_are_literal() {
        // Errata 11: `st=` is not `ST`, so the mandatory check fails.
        assert!(matches!(
            err("C=US,st=WA,O=x"),
            DnError::MissingMandatory {
                attribute: "ST",
                ..
            }
        ));
        let d = dn("C=US,ST=WA,O=x,cn=y");
        assert_eq!(d.get("cn"), Some("y"));
        assert_eq!(d.get("CN"), None);
        // A dotted OID is a valid type, compared literally too.
        assert_eq!(dn("C=US,ST=WA,O=x,2.5.4.3=y").get("2.5.4.3"), Some("y"));
        for bad in [
            "C=US,ST=WA,O=x,C N=y",
            "C=US,ST=WA,O=x,1..2=y",
            "C=US,ST=WA,O=x,-a=y",
        ] {
            assert!(
                matches!(err(bad), DnError::InvalidAttributeType { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn hex_values_rejected() {
        assert!(matches!(
            err("C=US,ST=California,O=Notary Project=#"),
            DnError::HexValue { .. }
        ));
        assert!(matches!(
            err("C=US,ST=WA,O=x,CN=#4142"),
            DnError::HexValue { .. }
        ));
        assert!(matches!(
            err("C=US,ST=WA,O=x,CN= #4142"),
            DnError::HexValue { .. }
        ));
        // An escaped leading '#' is an ordinary character.
        assert_eq!(dn("C=US,ST=WA,O=x,CN=\\#1").get("CN"), Some("#1"));
    }

    #[test]
    fn multi_valued_rdns_rejected() {
        assert!(matches!(
            err("OU=Sales+CN=J.  Smith,DC=example,DC=net"),
            DnError::MultiValuedRdn { .. }
        ));
        assert!(matches!(
            err("C=US,ST=WA,O=x+OU=y"),
            DnError::MultiValuedRdn { .. }
        ));
    }

    #[test]
    fn duplicates_rejected() {
        assert!(matches!(
            err("C=US,ST=WA,O=x,OU=a,OU=b"),
            DnError::DuplicateAttribute { attribute, .. } if attribute == "OU"
        ));
    }

    #[test]
    fn escapes() {
        let d = dn(r"C=US,ST=WA,O=Acme\, Inc.,OU=a\;b,CN=back\\slash");
        assert_eq!(d.get("O"), Some("Acme, Inc."));
        assert_eq!(d.get("OU"), Some("a;b"));
        assert_eq!(d.get("CN"), Some("back\\slash"));
        let d = dn(r"C=US,ST=WA,O=\ lead,L=trail\ ,CN=caf\C3\A9,OU=\2C\3d");
        assert_eq!(d.get("O"), Some(" lead"));
        assert_eq!(d.get("L"), Some("trail "));
        assert_eq!(d.get("CN"), Some("café"));
        assert_eq!(d.get("OU"), Some(",="));
        // Unescaped spaces around values and separators are not significant.
        assert_eq!(dn("C = US ,  ST=WA,O= x ").get("O"), Some("x"));
        // '=' inside a value needs no escape.
        assert_eq!(dn("C=US,ST=WA,O=a=b").get("O"), Some("a=b"));
    }

    #[test]
    fn bad_escapes_and_characters() {
        for bad in [
            r"C=US,ST=WA,O=a\q",
            r"C=US,ST=WA,O=a\4",
            r"C=US,ST=WA,O=a\",
            r"C=US,ST=WA,O=\FF",
        ] {
            assert!(matches!(err(bad), DnError::InvalidEscape { .. }), "{bad}");
        }
        for (bad, c) in [
            ("C=US;ST=WA;O=x", ';'),
            ("C=US,ST=WA,O=\"x\"", '"'),
            ("C=US,ST=WA,O=<x>", '<'),
            ("C=US,ST=WA,O=x\ty", '\t'),
        ] {
            assert!(
                matches!(err(bad), DnError::UnescapedCharacter { character, .. } if character == c),
                "{bad}"
            );
        }
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "C=US,ST=WA,O=x,",
            "C=US,ST=WA,O=x+",
            ",C=US,ST=WA,O=x",
            "C=US,,ST=WA,O=x",
            "C=US, ,ST=WA,O=x",
            "C=US,ST=WA,Ox",
            "C=US,ST=WA,=x",
            "x509.subject",
        ] {
            assert!(
                matches!(err(bad), DnError::Syntax { .. }),
                "{bad}: {:?}",
                DistinguishedName::parse(bad)
            );
        }
        assert!(
            matches!(err("C=US,ST=WA,O=,CN=x"), DnError::EmptyValue { attribute, .. } if attribute == "O")
        );
        assert!(
            matches!(err("C=US,ST=WA,O=x,L=  "), DnError::EmptyValue { attribute, .. } if attribute == "L")
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            r"C=US,ST=WA,O=Acme\, Inc.,OU=a\;b\+c,CN=\ x\\y\ ",
            r#"C=US,ST=WA,O=\#hash,L=q\"q\<\>"#,
            // Found while fuzzing DNs (the round-trip check now in the `dn` fuzz target): `=#`
            // inside a value and control characters were written raw and no longer parsed.
            r"C=US,ST=WA,O=a=\#b,CN=x\0Ay\00z\7F",
        ] {
            let d = dn(s);
            assert_eq!(dn(&d.to_string()), d, "{s} -> {d}");
        }
    }

    #[test]
    fn subset_matching() {
        // notation-go internal/pkix TestIsSubsetDN.
        let a = dn("C=US,ST=California,O=Notary Project");
        let b = dn("C=US,ST=California,O=Notary Project,L=Los Angeles");
        assert!(a.is_subset_of(&b));
        assert!(!b.is_subset_of(&a));
        let c = dn("C=US,ST=California,O=Notary Project 2,L=Los Angeles,CN=Notary");
        assert!(!a.is_subset_of(&c));
        let d = dn("C=US,ST=California,O=Notary Project,CN=Notary");
        assert!(!d.is_subset_of(&b));
        // Values are case-sensitive.
        assert!(!dn("C=us,ST=California,O=Notary Project").is_subset_of(&b));
    }

    #[test]
    fn overlap_rule() {
        // The errata 10 example: some certificate (with both OU=x and CN=y) matches both.
        let a = dn("C=US,ST=WA,O=a,OU=x");
        let b = dn("C=US,ST=WA,O=a,CN=y");
        assert!(a.overlaps(&b) && b.overlaps(&a));
        // The spec's example: a subset.
        let c = dn("C=US, ST=WA, O=wabbit-network.io, OU=org1");
        let d = dn("C=US, ST=WA, O=wabbit-network.io");
        assert!(c.overlaps(&d) && d.overlaps(&c));
        assert!(c.overlaps(&c));
        // A shared type with different values keeps them apart.
        let e = dn("C=US,ST=WA,O=a,OU=y");
        assert!(!a.overlaps(&e) && !e.overlaps(&a));
        let f = dn("O=Internet Widgits Pty Ltd,ST=Some-State,C=AU");
        let g = dn("CN=e2e,O=Notary,L=Seattle,ST=WA,C=US");
        assert!(!f.overlaps(&g));
    }

    #[test]
    fn subject_from_certificate_name() {
        let s = subject("CN=e2e,O=Notary,L=Seattle,ST=WA,C=US").unwrap();
        assert_eq!(s.get("CN"), Some("e2e"));
        assert_eq!(s.get("ST"), Some("WA"));
        assert!(dn("CN=e2e,O=Notary,L=Seattle,ST=WA,C=US").is_subset_of(&s));
        assert!(dn("C=US, S=WA, O=Notary").is_subset_of(&s));
        assert!(!dn("CN=e2e,O=Notary,L=Seattle,ST=WA,C=USB").is_subset_of(&s));
        assert!(!dn("C=US,ST=WA,O=Notary,OU=missing").is_subset_of(&s));
        let all = subject(
            "SERIALNUMBER=42,POSTALCODE=98101,STREET=Main St,OU=Tools,CN=x,O=Notary,L=Seattle,ST=WA,C=US",
        )
        .unwrap();
        assert_eq!(all.get("SERIALNUMBER"), Some("42"));
        assert_eq!(all.get("POSTALCODE"), Some("98101"));
        assert_eq!(all.get("STREET"), Some("Main St"));
        assert!(dn("C=US,ST=WA,O=Notary,STREET=Main St,SERIALNUMBER=42").is_subset_of(&all));
    }

    #[test]
    fn multi_valued_rdns_of_distinct_types_are_flattened() {
        // Erratum 19: Go's Name.String rebuilds `ST=WA+O=acme` as separate attributes.
        let s = subject("CN=a+OU=b,O=x,ST=WA,C=US").unwrap();
        assert_eq!(s.get("CN"), Some("a"));
        assert_eq!(s.get("OU"), Some("b"));
        assert!(dn("C=US,ST=WA,O=x,OU=b,CN=a").is_subset_of(&s));
        let s = subject("CN=builder,ST=WA+O=acme,C=US").unwrap();
        assert!(dn("C=US,ST=WA,O=acme").is_subset_of(&s));
        assert!(dn("C=US,ST=WA,O=acme,CN=builder").is_subset_of(&s));
        // A repeated type fails, inside one RDN or across RDNs, CN included (DIVERGENCE: Go keeps
        // the last CN).
        for bad in [
            "OU=a+OU=b,O=x,ST=WA,C=US",
            "CN=a+CN=b,O=x,ST=WA,C=US",
            "CN=a,CN=b,O=x,ST=WA,C=US",
            "CN=a,O=x+O=y,ST=WA,C=US",
        ] {
            assert!(
                matches!(subject(bad), Err(DnError::DuplicateAttribute { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn unusable_subjects() {
        // emailAddress and UID print as OID=#hex in Go, so notation cannot match them.
        let e = subject("1.2.840.113549.1.9.1=#160161,O=x,ST=WA,C=US").unwrap_err();
        assert!(
            matches!(&e, DnError::UnsupportedSubjectAttribute { oid } if oid == "1.2.840.113549.1.9.1")
        );
        assert_eq!(e.reason(), crate::notary::dn::DnReason::SubjectUnsupported);
        assert!(matches!(
            subject("0.9.2342.19200300.100.1.1=abc,O=x,ST=WA,C=US"),
            Err(DnError::UnsupportedSubjectAttribute { .. })
        ));
        assert!(matches!(
            subject("OU=b,OU=a,O=x,ST=WA,C=US"),
            Err(DnError::DuplicateAttribute { attribute, .. }) if attribute == "OU"
        ));
        assert!(matches!(
            subject("CN=a=#b,O=x,ST=WA,C=US"),
            Err(DnError::UnsupportedSubjectValue { .. })
        ));
    }

    fn one(oid: ObjectIdentifier, value: Any) -> Name {
        let atv = AttributeTypeAndValue { oid, value };
        RdnSequence(vec![RelativeDistinguishedName(
            SetOfVec::try_from(vec![atv]).unwrap(),
        )])
    }

    #[test]
    fn subject_string_types() {
        let ok = [
            (Tag::Utf8String, "é".as_bytes().to_vec(), "é"),
            (Tag::PrintableString, b"A*&b".to_vec(), "A*&b"),
            (Tag::Ia5String, b"a@b".to_vec(), "a@b"),
            (Tag::TeletexString, b"t61".to_vec(), "t61"),
            // TeletexString is Latin-1 byte by byte, as current Go reads it (red team N, N03).
            (Tag::TeletexString, vec![0x5a, 0xfc, 0x72], "Zür"),
            (Tag::TeletexString, "Zü".as_bytes().to_vec(), "ZÃ¼"),
            (Tag::NumericString, b"12 3".to_vec(), "12 3"),
            (Tag::BmpString, vec![0, 0x41, 0, 0xe9, 0, 0], "Aé"),
        ];
        for (tag, bytes, want) in ok {
            let name = one(rfc4519::CN, Any::new(tag, bytes).unwrap());
            let got = DistinguishedName::from_subject(&name).unwrap();
            assert_eq!(got.get("CN"), Some(want), "{tag}");
        }
        let bad = [
            (Tag::PrintableString, b"a@b".to_vec()),
            (Tag::Ia5String, vec![0xff]),
            (Tag::Utf8String, vec![0xff]),
            (Tag::NumericString, b"12a".to_vec()),
            (Tag::BmpString, vec![0, 0x41, 0]),
            (Tag::BmpString, vec![0xd8, 0x00]),
            // A surrogate pair (U+1F600) and noncharacters: Go refuses them (red team N, N01).
            (Tag::BmpString, vec![0xd8, 0x3d, 0xde, 0x00]),
            (Tag::BmpString, vec![0xff, 0xfe]),
            (Tag::BmpString, vec![0xfd, 0xd0]),
            (Tag::VisibleString, b"v".to_vec()),
            (Tag::Integer, vec![1]),
            (Tag::Utf8String, b"nul\0".to_vec()),
        ];
        for (tag, bytes) in bad {
            let name = one(rfc4519::CN, Any::new(tag, bytes).unwrap());
            assert!(
                matches!(
                    DistinguishedName::from_subject(&name),
                    Err(DnError::UnsupportedSubjectValue {
                        attribute: "CN",
                        ..
                    })
                ),
                "{tag}"
            );
        }
    }

    #[test]
    fn codes() {
        assert_eq!(err("C=US").reason(), crate::notary::dn::DnReason::DnInvalid);
        assert!(err("C=US,ST=WA").to_string().contains("\"O\""));
    }
}
