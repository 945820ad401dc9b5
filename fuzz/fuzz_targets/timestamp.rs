//! RFC 3161 timestamp tokens (`.p7s`, the `io.cncf.notary.timestampSignature` header): parse,
//! read every field, then `verify` against an empty root list.
#![no_main]
use airlock::notary::timestamp::{self, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = timestamp::parse(data) {
        let _ = (t.gen_time(), t.gen_time_nanos(), t.version());
        let _ = (t.policy_oid(), t.serial_hex(), t.message_imprint());
        let _ = (t.tst_info_der().len(), t.certificates().len());
        for i in 0..=t.signer_info_count() {
            let _ = t.signing_certificate(i);
        }
        let _ = t.validate_tst_info(b"");
        let _ = t.validate_tst_info(data);
    }
    if let Err(e) = timestamp::verify(data, b"", &[], &Limits::default()) {
        let _ = (e.code(), e.to_string());
    }
});
