//! Base64 for tests, through the `base64` crate the library already uses.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Standard base64 with padding.
pub fn encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Standard base64 with padding; panics on bad input.
pub fn decode(text: &str) -> Vec<u8> {
    STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("bad base64 ({e})"))
}

/// A PEM block: `-----BEGIN {label}-----`, the base64 of `der` in 64-column lines, the end line.
pub fn pem(label: &str, der: &[u8]) -> String {
    let enc = encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in enc.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(line));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// Base64 as JOSE and PEM bodies use it: the standard or the URL-safe alphabet (told apart by
/// `-`/`_`), padding optional, non-zero trailing bits tolerated; panics on bad input.
pub fn decode_lenient(text: &str) -> Vec<u8> {
    use base64::alphabet;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if text.contains(['-', '_']) {
        &alphabet::URL_SAFE
    } else {
        &alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config)
        .decode(text)
        .unwrap_or_else(|e| panic!("bad base64 ({e})"))
}
