//! Trust policy documents (`trustpolicy.json`): parse, then look statements up.
#![no_main]
use airlock::notary::policy;
use libfuzzer_sys::fuzz_target;

const SCOPES: [&str; 4] = [
    "localhost:5000/test-repo",
    "registry.example/app",
    "*",
    "a\\b",
];

fuzz_target!(|data: &[u8]| {
    let doc = match policy::parse(data) {
        Ok(doc) => doc,
        Err(e) => {
            let _ = (e.code(), e.to_string());
            return;
        }
    };
    let _ = doc.version();
    for s in doc.statements() {
        let _ = (
            s.name(),
            s.registry_scopes(),
            s.is_global(),
            s.level(),
            s.is_skip(),
        );
        let _ = (s.overrides(), s.verify_timestamp(), s.trust_stores());
        let _ = s.trusted_identities();
        for t in s.trust_stores() {
            let _ = (t.kind(), t.name());
        }
    }
    let mut scopes: Vec<&str> = SCOPES.to_vec();
    for s in doc.statements() {
        scopes.extend(s.registry_scopes().iter().map(String::as_str));
    }
    for scope in scopes {
        let _ = doc.statement_for(scope);
    }
});
