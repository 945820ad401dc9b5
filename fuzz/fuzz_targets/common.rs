// Shared by the envelope targets (included with `include!`-free `#[path]` modules).
use airlock::notary::envelope::Envelope;

/// Parses an envelope of `media_type` and, when it parses, runs the full structural verification
/// and reads every accessor, the way the signature stage does.
pub fn envelope(media_type: &str, data: &[u8]) {
    let Ok(env) = Envelope::parse(media_type, data) else {
        return;
    };
    let _ = env.format();
    let _ = env.media_type();
    let _ = env.algorithm();
    let _ = env.content_type();
    let _ = env.signing_scheme();
    let _ = env.signing_time();
    let _ = env.authentic_signing_time();
    let _ = env.effective_signing_time();
    let _ = env.expiry();
    let _ = env.check_expiry(0);
    let _ = env.check_expiry(i64::MAX);
    let _ = env.verification_plugin();
    let _ = env.verification_plugin_min_version();
    for key in env.critical_headers() {
        let _ = key.to_string();
    }
    let _ = env.extended_attributes().len();
    let _ = env.certificate_chain().len();
    let _ = env.signing_agent();
    let _ = env.timestamp_token();
    let _ = env.parse_payload();
    if let Err(e) = env.verify() {
        let _ = (e.code(), e.reason(), e.to_string());
    }
}
