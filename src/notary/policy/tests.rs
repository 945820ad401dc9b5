//! Unit tests of trust policy parsing, validation, scopes and identity matching.

use std::str::FromStr;

use serde_json::{json, Value};

use x509_cert::name::Name;

use super::scope::check_scope;
use super::*;
use crate::notary::truststore::StoreType;

/// notation-go's `dummyOCIPolicyDocument` statement, as JSON.
fn statement() -> Value {
    json!({
        "name": "test-statement-name",
        "registryScopes": ["registry.acme-rockets.io/software/net-monitor"],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
        "trustedIdentities": ["x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US"]
    })
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"version": "1.0", "trustPolicies": statements})
}

fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut s = statement();
    edit(&mut s);
    doc(vec![s])
}

fn parse_value(v: &Value) -> Result<PolicyDocument, PolicyError> {
    parse(serde_json::to_string(v).unwrap().as_bytes())
}

fn ok(v: &Value) -> PolicyDocument {
    parse_value(v).unwrap_or_else(|e| panic!("{v} should be valid: {e}"))
}

fn bad(v: &Value) -> PolicyError {
    match parse_value(v) {
        Ok(_) => panic!("{v} should be invalid"),
        Err(e) => {
            assert_eq!(
                e.reason(),
                crate::notary::policy::PolicyReason::PolicyInvalid,
                "{e}"
            );
            e
        }
    }
}

fn level(name: &str) -> Statement {
    let d = ok(&with(|s| {
        s["signatureVerification"] = json!({"level": name});
        if name == "skip" {
            s.as_object_mut().unwrap().remove("trustStores");
            s.as_object_mut().unwrap().remove("trustedIdentities");
        }
    }));
    d.statements()[0].clone()
}

#[test]
fn valid_document() {
    let d = ok(&doc(vec![statement()]));
    assert_eq!(d.version(), "1.0");
    let s = &d.statements()[0];
    assert_eq!(s.name(), "test-statement-name");
    assert_eq!(
        s.registry_scopes(),
        ["registry.acme-rockets.io/software/net-monitor"]
    );
    assert!(!s.is_global());
    assert_eq!(s.level(), Level::Strict);
    assert!(!s.is_skip());
    assert_eq!(s.verify_timestamp(), VerifyTimestamp::Always);
    let stores: Vec<String> = s.trust_stores().iter().map(ToString::to_string).collect();
    assert_eq!(
        stores,
        ["ca:valid-trust-store", "signingAuthority:valid-trust-store"]
    );
    assert_eq!(s.trust_stores_of(StoreType::SigningAuthority).count(), 1);
    assert_eq!(s.trust_stores_of(StoreType::Tsa).count(), 0);
    let TrustedIdentities::Listed(ids) = s.trusted_identities() else {
        panic!("listed identities expected")
    };
    assert!(
        matches!(&ids[..], [TrustedIdentity::X509Subject(dn)] if dn.get("CN") == Some("Notation Test Root"))
    );
}

#[test]
fn action_table_every_level_and_check() {
    use Action::{Enforce as E, Log as L, Skip as S};
    let table = [
        ("strict", [E, E, E, E, E]),
        ("permissive", [E, E, L, L, L]),
        ("audit", [E, L, L, L, L]),
        ("skip", [S, S, S, S, S]),
    ];
    for (name, actions) in table {
        let s = level(name);
        assert_eq!(s.level().as_str(), name);
        for (check, want) in Check::ALL.into_iter().zip(actions) {
            assert_eq!(s.action(check), want, "{name} {check}");
            assert_eq!(s.level().base_action(check), want, "{name} {check}");
        }
        assert_eq!(s.is_skip(), name == "skip");
    }
}

#[test]
fn overrides_every_allowed_combination() {
    let allowed: [(Check, &[Action]); 4] = [
        (Check::Authenticity, &[Action::Enforce, Action::Log]),
        (Check::AuthenticTimestamp, &[Action::Enforce, Action::Log]),
        (Check::Expiry, &[Action::Enforce, Action::Log]),
        (
            Check::Revocation,
            &[Action::Enforce, Action::Log, Action::Skip],
        ),
    ];
    for base in ["strict", "permissive", "audit"] {
        for (check, actions) in allowed {
            for action in [Action::Enforce, Action::Log, Action::Skip] {
                let v = with(|s| {
                    s["signatureVerification"] =
                        json!({"level": base, "override": {check.as_str(): action.as_str()}})
                });
                if actions.contains(&action) {
                    let d = ok(&v);
                    let s = &d.statements()[0];
                    for other in Check::ALL {
                        let want = if other == check {
                            action
                        } else {
                            Level::from_name(base).unwrap().base_action(other)
                        };
                        assert_eq!(s.action(other), want, "{base} {check}={action}: {other}");
                    }
                    assert_eq!(s.overrides(), [(check, action)]);
                } else {
                    assert!(
                        matches!(bad(&v), PolicyError::OverrideSkipNotAllowed { check: c, .. } if c == check),
                        "{base} {check}={action}"
                    );
                }
            }
        }
        for action in ["enforce", "log", "skip"] {
            let v = with(|s| {
                s["signatureVerification"] =
                    json!({"level": base, "override": {"integrity": action}})
            });
            assert!(matches!(bad(&v), PolicyError::OverrideIntegrity { .. }));
        }
    }
    // Several overrides at once (the corpus's audit + enforce-everything).
    let d = ok(&with(|s| {
        s["signatureVerification"] = json!({"level": "audit", "override":
            {"revocation": "enforce", "expiry": "enforce", "authenticTimestamp": "enforce", "authenticity": "enforce"}})
    }));
    assert!(Check::ALL
        .into_iter()
        .all(|c| d.statements()[0].action(c) == Action::Enforce));
}

#[test]
fn override_errors() {
    let sv = |v: Value| with(|s| s["signatureVerification"] = v);
    assert!(matches!(
        bad(&sv(json!({"level": "strict", "override": {"signature": "log"}}))),
        PolicyError::OverrideKeyInvalid { key, .. } if key == "signature"
    ));
    assert!(matches!(
        bad(&sv(
            json!({"level": "strict", "override": {"Expiry": "log"}})
        )),
        PolicyError::OverrideKeyInvalid { .. }
    ));
    assert!(matches!(
        bad(&sv(json!({"level": "strict", "override": {"expiry": "warn"}}))),
        PolicyError::OverrideValueInvalid { value, .. } if value == "warn"
    ));
    assert!(matches!(
        bad(&sv(json!({"level": "strict", "override": {"expiry": 1}}))),
        PolicyError::Malformed { .. }
    ));
    let e = parse(
        br#"{"version":"1.0","trustPolicies":[{"name":"n","registryScopes":["*"],
        "signatureVerification":{"level":"strict","override":{"expiry":"log","expiry":"enforce"}},
        "trustStores":["ca:s"],"trustedIdentities":["*"]}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&e, PolicyError::Malformed { reason } if reason.contains("duplicate override key `expiry`")),
        "{e}"
    );
    // Skip cannot be customised, but an empty or null override is no customisation.
    let skip = |o: Value| {
        doc(vec![json!({"name": "n", "registryScopes": ["*"],
            "signatureVerification": {"level": "skip", "override": o}})])
    };
    assert!(matches!(
        bad(&skip(json!({"revocation": "skip"}))),
        PolicyError::OverrideOnSkip { .. }
    ));
    assert!(ok(&skip(json!({}))).statements()[0].is_skip());
    assert!(ok(&skip(Value::Null)).statements()[0].is_skip());
}

#[test]
fn levels_and_verify_timestamp() {
    let sv = |v: Value| with(|s| s["signatureVerification"] = v);
    assert!(matches!(
        bad(&sv(json!({}))),
        PolicyError::LevelMissing { .. }
    ));
    assert!(matches!(
        bad(&sv(json!({"level": ""}))),
        PolicyError::LevelMissing { .. }
    ));
    assert!(matches!(
        bad(&with(|s| {
            s.as_object_mut().unwrap().remove("signatureVerification");
        })),
        PolicyError::LevelMissing { .. }
    ));
    for l in ["invalid", "Strict", "STRICT", "custom"] {
        assert!(
            matches!(bad(&sv(json!({"level": l}))), PolicyError::LevelInvalid { level, .. } if level == l)
        );
    }
    for (v, want) in [
        (json!(null), VerifyTimestamp::Always),
        (json!(""), VerifyTimestamp::Always),
        (json!("always"), VerifyTimestamp::Always),
        (json!("afterCertExpiry"), VerifyTimestamp::AfterCertExpiry),
    ] {
        let d = ok(&sv(json!({"level": "strict", "verifyTimestamp": v})));
        assert_eq!(d.statements()[0].verify_timestamp(), want);
    }
    assert_eq!(VerifyTimestamp::AfterCertExpiry.as_str(), "afterCertExpiry");
    for v in ["invalid", "Always", "aftercertexpiry"] {
        assert!(matches!(
            bad(&sv(json!({"level": "strict", "verifyTimestamp": v}))),
            PolicyError::VerifyTimestampInvalid { value, .. } if value == v
        ));
    }
}

#[test]
fn document_level_errors() {
    assert!(matches!(
        bad(&json!({"trustPolicies": [statement()]})),
        PolicyError::VersionMissing
    ));
    assert!(matches!(
        bad(&json!({"version": "", "trustPolicies": [statement()]})),
        PolicyError::VersionMissing
    ));
    assert!(matches!(
        bad(&json!({"version": "invalid", "trustPolicies": [statement()]})),
        PolicyError::VersionUnsupported { version } if version == "invalid"
    ));
    assert!(matches!(
        bad(&json!({"version": "1.0"})),
        PolicyError::NoStatements
    ));
    assert!(matches!(
        bad(&json!({"version": "1.0", "trustPolicies": []})),
        PolicyError::NoStatements
    ));
    assert!(matches!(
        bad(&json!({"version": "1.0", "trustPolicies": null})),
        PolicyError::NoStatements
    ));
    assert!(matches!(
        bad(&with(|s| s["name"] = json!(""))),
        PolicyError::StatementNameMissing { index: 0 }
    ));
    let mut second = statement();
    second["registryScopes"] = json!(["registry.acme-rockets.io/software/legacy/metrics"]);
    assert!(matches!(
        bad(&doc(vec![statement(), second])),
        PolicyError::DuplicateStatementName { name } if name == "test-statement-name"
    ));
}

#[test]
fn strict_json() {
    for text in [
        r#"{"version":"1.0","trustPolicies":[],"extra":1}"#,
        r#"{"Version":"1.0","trustPolicies":[]}"#,
        r#"{"version":"1.0","version":"1.0","trustPolicies":[]}"#,
        r#"{"version":"1.0","trustPolicies":[{"name":"n","globalPolicy":true}]}"#,
        r#"{"version":"1.0","trustPolicies":[{"name":"n","signatureVerification":{"level":"strict","verify_timestamp":"always"}}]}"#,
        r#"{"version":1.0,"trustPolicies":[]}"#,
        r#"{"version":"1.0","trustPolicies":{}}"#,
        r#"{"version":"1.0","trustPolicies":[]} trailing"#,
        r#"[]"#,
        "",
        "\u{feff}{}",
    ] {
        let e = parse(text.as_bytes()).unwrap_err();
        assert!(matches!(e, PolicyError::Malformed { .. }), "{text}: {e:?}");
        assert_eq!(
            e.reason(),
            crate::notary::policy::PolicyReason::PolicyInvalid
        );
    }
    let e = parse(br#"{"version":"1.0","trustPolicies":[{"name":"n","trustStore":["ca:x"]}]}"#)
        .unwrap_err();
    assert!(e.to_string().contains("unknown field `trustStore`"), "{e}");
    let big = vec![b' '; MAX_POLICY_BYTES + 1];
    assert!(matches!(parse(&big), Err(PolicyError::TooLarge { .. })));
}

#[test]
fn trust_material_by_level() {
    let remove = |s: &mut Value, k: &str| {
        s.as_object_mut().unwrap().remove(k);
    };
    assert!(matches!(
        bad(&with(|s| s["trustStores"] = json!([]))),
        PolicyError::TrustStoresMissing { .. }
    ));
    assert!(matches!(
        bad(&with(|s| remove(s, "trustStores"))),
        PolicyError::TrustStoresMissing { .. }
    ));
    assert!(matches!(
        bad(&with(|s| s["trustedIdentities"] = json!([]))),
        PolicyError::TrustedIdentitiesMissing { .. }
    ));
    assert!(matches!(
        bad(&with(|s| remove(s, "trustedIdentities"))),
        PolicyError::TrustedIdentitiesMissing { .. }
    ));
    // skip: both must be empty or absent.
    let skip = |stores: Value, ids: Value| {
        with(|s| {
            s["signatureVerification"] = json!({"level": "skip"});
            s["trustStores"] = stores;
            s["trustedIdentities"] = ids;
        })
    };
    assert!(matches!(
        bad(&skip(json!(["ca:x"]), json!([]))),
        PolicyError::SkipWithTrustMaterial { .. }
    ));
    assert!(matches!(
        bad(&skip(json!([]), json!(["*"]))),
        PolicyError::SkipWithTrustMaterial { .. }
    ));
    let d = ok(&skip(json!([]), json!(null)));
    let s = &d.statements()[0];
    assert!(s.is_skip() && s.trust_stores().is_empty());
    assert_eq!(s.trusted_identities(), &TrustedIdentities::None);
}

#[test]
fn trust_store_values() {
    let stores = |v: Value| with(|s| s["trustStores"] = v);
    for v in ["ca", "signingAuthority", "tsa", ""] {
        assert!(
            matches!(bad(&stores(json!([v]))), PolicyError::TrustStoreMalformed { value, .. } if value == v)
        );
    }
    for (v, kind) in [
        ("invalid:x", "invalid"),
        ("CA:x", "CA"),
        (":x", ""),
        ("*:x", "*"),
    ] {
        assert!(matches!(
            bad(&stores(json!([v]))),
            PolicyError::TrustStoreTypeInvalid { kind: k, .. } if k == kind
        ));
    }
    for (v, name) in [
        ("ca:", ""),
        ("ca:a/b", "a/b"),
        ("ca:..", ".."),
        ("ca:a:b", "a:b"),
        ("tsa:*", "*"),
    ] {
        assert!(matches!(
            bad(&stores(json!([v]))),
            PolicyError::TrustStoreNameInvalid { name: n, .. } if n == name
        ));
    }
    let d = ok(&stores(json!([
        "ca:a",
        "tsa:t",
        "ca:a",
        "signingAuthority:a",
        "ca:b"
    ])));
    let got: Vec<String> = d.statements()[0]
        .trust_stores()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(got, ["ca:a", "tsa:t", "signingAuthority:a", "ca:b"]);
    let t = &d.statements()[0].trust_stores()[1];
    assert_eq!((t.kind(), t.name()), (StoreType::Tsa, "t"));
}

#[test]
fn trusted_identity_values() {
    let ids = |v: Value| with(|s| s["trustedIdentities"] = v);
    assert!(matches!(
        bad(&ids(json!(["*", "test-identity"]))),
        PolicyError::IdentityWildcardMixed { .. }
    ));
    assert!(matches!(
        bad(&ids(json!(["x509.subject:C=US,ST=WA,O=x", "*"]))),
        PolicyError::IdentityWildcardMixed { .. }
    ));
    assert!(matches!(
        bad(&ids(json!([""]))),
        PolicyError::IdentityEmpty { .. }
    ));
    assert!(matches!(
        bad(&ids(json!(["x509.subject"]))),
        PolicyError::IdentitySeparatorMissing { identity, .. } if identity == "x509.subject"
    ));
    assert!(matches!(
        bad(&ids(json!([
            "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"
        ]))),
        PolicyError::IdentitySeparatorMissing { .. }
    ));
    assert!(matches!(
        bad(&ids(json!(["x509.subject:"]))),
        PolicyError::IdentityValueEmpty { .. }
    ));
    for dn in [
        "x509.subject:CN=e2e,L=Seattle,ST=WA,C=US",
        "x509.subject: C=US, O=x",
        "x509.subject:C=US,ST=WA,O=x=#41",
        "x509.subject:C=US,ST=WA,O=x,OU=a+CN=b",
        "x509.subject:C=US,ST=WA,S=WA,O=x",
        "x509.subject: ",
    ] {
        let e = bad(&ids(json!([dn])));
        assert!(
            matches!(&e, PolicyError::IdentityInvalid { identity, .. } if identity == dn),
            "{dn}: {e:?}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
    assert_eq!(
        ok(&ids(json!(["*"]))).statements()[0].trusted_identities(),
        &TrustedIdentities::Any
    );
    // Other prefixes are kept but not evaluated.
    let d = ok(&ids(json!([
        "plugin.id:anything",
        "x509.subject:C=US,ST=WA,O=x"
    ])));
    let TrustedIdentities::Listed(list) = d.statements()[0].trusted_identities() else {
        panic!()
    };
    assert!(
        matches!(&list[0], TrustedIdentity::Other { prefix, value } if prefix == "plugin.id" && value == "anything")
    );
    // Too many.
    let many: Vec<String> = (0..=MAX_TRUSTED_IDENTITIES)
        .map(|i| format!("x509.subject:C=US,ST=WA,O=o{i}"))
        .collect();
    assert!(matches!(
        bad(&ids(json!(many))),
        PolicyError::TooManyIdentities { .. }
    ));
    let enough: Vec<String> = (0..MAX_TRUSTED_IDENTITIES)
        .map(|i| format!("x509.subject:C=US,ST=WA,O=o{i}"))
        .collect();
    ok(&ids(json!(enough)));
}

#[test]
fn overlapping_identities() {
    let ids = |v: Value| with(|s| s["trustedIdentities"] = v);
    // notation's subset case (the corpus's overlapped-trusted-identities).
    let e = bad(&ids(json!([
        "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US",
        "x509.subject: CN=e2e,O=Notary,ST=WA,C=US"
    ])));
    assert!(matches!(e, PolicyError::IdentitiesOverlap { .. }));
    // Errata 10: neither is a subset, but a certificate with OU=x and CN=y matches both.
    assert!(matches!(
        bad(&ids(json!(["x509.subject:C=US,ST=WA,O=a,OU=x", "x509.subject:C=US,ST=WA,O=a,CN=y"]))),
        PolicyError::IdentitiesOverlap { first, second, .. }
            if first.ends_with("OU=x") && second.ends_with("CN=y")
    ));
    // Identical entries overlap; S and ST are the same type.
    assert!(matches!(
        bad(&ids(json!([
            "x509.subject:C=US,ST=WA,O=a",
            "x509.subject:C=US,S=WA,O=a"
        ]))),
        PolicyError::IdentitiesOverlap { .. }
    ));
    // Disjoint identities are fine.
    ok(&ids(json!([
        "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US",
        "x509.subject: O=Internet Widgits Pty Ltd,ST=Some-State,C=AU"
    ])));
    ok(&ids(json!([
        "x509.subject:C=US,ST=WA,O=a,OU=x",
        "x509.subject:C=US,ST=WA,O=a,OU=y"
    ])));
}

#[test]
fn identity_matching() {
    let name = |s: &str| Name::from_str(s).unwrap();
    let d = ok(&with(|s| {
        s["trustedIdentities"] = json!([
            "x509.subject: C=US, ST=WA, O=Notary, CN=e2e",
            "x509.subject: C=AU, S=Some-State, O=Internet Widgits Pty Ltd"
        ])
    }));
    let s = &d.statements()[0];
    assert!(s.identity_matches(&name("CN=e2e,O=Notary,L=Seattle,ST=WA,C=US")));
    assert!(s.identity_matches(&name("O=Internet Widgits Pty Ltd,ST=Some-State,C=AU")));
    assert!(!s.identity_matches(&name("CN=e2e2,O=Notary,L=Seattle,ST=WA,C=US")));
    assert!(!s.identity_matches(&name("CN=e2e,O=Notary,L=Seattle,C=US")));
    let unusable = name("1.2.840.113549.1.9.1=#160161,CN=e2e,O=Notary,ST=WA,C=US");
    assert!(!s.identity_matches(&unusable));
    assert!(s.match_identity(&unusable).is_err());

    let any = ok(&with(|s| s["trustedIdentities"] = json!(["*"])));
    assert!(any.statements()[0].identity_matches(&unusable));
    let other = ok(&with(|s| s["trustedIdentities"] = json!(["plugin:x"])));
    assert_eq!(other.statements()[0].match_identity(&unusable), Ok(false));
    assert!(!level("skip").identity_matches(&name("CN=e2e,O=Notary,ST=WA,C=US")));
}

#[test]
fn registry_scope_formats() {
    // notation-go TestValidRegistryScopes (minus local/myOCILayout: errata 6).
    for scope in [
        "example.com/rep",
        "example.com:8080/rep/rep2",
        "example.com/rep/subrep/subsub",
        "10.10.10.10:8080/rep/rep2",
        "domain/rep",
        "domain:1234/rep",
        "local/myocilayout",
        "localhost:5000/e2e",
        "Registry.Example-1.com/a.b_c__d-e---f/g0",
    ] {
        ok(&with(|s| s["registryScopes"] = json!([scope])));
        assert!(check_scope(scope).is_ok(), "{scope}");
    }
    // TestInvalidRegistryScopes, the wildcard ones, the corpus's backslash, and regex edges.
    for scope in [
        "",
        "1:1",
        "a,b",
        "abcd",
        "1111",
        "1,2",
        "example.com/rep:tag",
        "example.com/rep/subrep/sub:latest",
        "example.com",
        "rep/rep2:latest",
        "repository",
        "10.10.10.10",
        "10.10.10.10:8080/rep/rep2:latest",
        "local/myOCILayout",
        "example.com/*",
        "*/",
        "example*/",
        "ex*test",
        "localhost:5000\\test-repo",
        "-a.com/rep",
        "a-.com/rep",
        "a..com/rep",
        "a.com:/rep",
        "a.com:80:90/rep",
        "a.com/rep/",
        "a.com//rep",
        "a.com/_rep",
        "a.com/rep_",
        "a.com/re___p",
        "a.com/re._p",
        "a.com/re@p",
        "https://a.com/rep",
        "a.com/rep@sha256:abc",
        "/rep",
        "a.com/",
    ] {
        let e = bad(&with(|s| s["registryScopes"] = json!([scope])));
        assert!(
            matches!(&e, PolicyError::ScopeInvalid { statement: Some(_), scope: sc, .. } if sc == scope),
            "{scope}: {e:?}"
        );
    }
}

#[test]
fn registry_scope_rules() {
    let scopes = |v: Value| with(|s| s["registryScopes"] = v);
    assert!(matches!(
        bad(&scopes(json!([]))),
        PolicyError::ScopesMissing { .. }
    ));
    assert!(matches!(
        bad(&with(|s| {
            s.as_object_mut().unwrap().remove("registryScopes");
        })),
        PolicyError::ScopesMissing { .. }
    ));
    assert!(matches!(
        bad(&scopes(json!([
            "*",
            "registry.acme-rockets.io/software/net-monitor"
        ]))),
        PolicyError::ScopeWildcardMixed { .. }
    ));
    assert!(matches!(
        bad(&scopes(json!(["localhost:5000/test-repo6", "localhost:5000/test-repo6"]))),
        PolicyError::DuplicateScope { scope } if scope == "localhost:5000/test-repo6"
    ));
    let mut second = statement();
    second["name"] = json!("second");
    assert!(matches!(
        bad(&doc(vec![statement(), second.clone()])),
        PolicyError::DuplicateScope { scope } if scope == "registry.acme-rockets.io/software/net-monitor"
    ));
    let mut a = statement();
    a["registryScopes"] = json!(["*"]);
    second["registryScopes"] = json!(["*"]);
    assert!(
        matches!(bad(&doc(vec![a, second])), PolicyError::DuplicateScope { scope } if scope == "*")
    );
    // One repository spelled two ways in two statements is refused (which statement judged it
    // would depend on the bundle's spelling); in one statement it is harmless.
    let mut one = json!({
        "name": "one",
        "registryScopes": ["registry.example/app"],
        "signatureVerification": {"level": "skip"},
    });
    let mut two = json!({
        "name": "two",
        "registryScopes": ["Registry.Example:443/app"],
        "signatureVerification": {"level": "skip"},
    });
    let e = bad(&doc(vec![one.clone(), two.clone()]));
    assert!(
        matches!(&e, PolicyError::AliasedScope { scope, other, .. }
            if scope == "registry.example/app" && other == "Registry.Example:443/app"),
        "{e:?}"
    );
    assert_eq!(e.code(), "policy_invalid");
    two["registryScopes"] = json!(["index.docker.io/alpine"]);
    one["registryScopes"] = json!(["docker.io/library/alpine"]);
    assert!(matches!(
        bad(&doc(vec![one.clone(), two.clone()])),
        PolicyError::AliasedScope { .. }
    ));
    one["registryScopes"] = json!(["docker.io/library/alpine", "docker.io/alpine"]);
    two["registryScopes"] = json!(["registry.example/other"]);
    ok(&doc(vec![one, two]));
}

#[test]
fn statement_selection() {
    let mut exact = statement();
    exact["name"] = json!("exact");
    exact["registryScopes"] = json!(["localhost:5000/test-repo9", "localhost:5000/other"]);
    let mut global = statement();
    global["name"] = json!("global");
    global["registryScopes"] = json!(["*"]);
    let mut skip = json!({"name": "skip", "registryScopes": ["local/unsigned"],
        "signatureVerification": {"level": "skip"}});
    // Order must not matter: exact beats "*" either way.
    for statements in [
        vec![global.clone(), exact.clone(), skip.clone()],
        vec![exact.clone(), skip.clone(), global.clone()],
    ] {
        let d = ok(&doc(statements));
        assert_eq!(
            d.statement_for("localhost:5000/test-repo9").unwrap().name(),
            "exact"
        );
        assert_eq!(
            d.statement_for("localhost:5000/other").unwrap().name(),
            "exact"
        );
        assert_eq!(
            d.statement_for("localhost:5000/test-repo4").unwrap().name(),
            "global"
        );
        assert!(d.statement_for("local/unsigned").unwrap().is_skip());
        assert!(
            d.statement_for("localhost:5000/test-repo9")
                .unwrap()
                .registry_scopes()
                .len()
                == 2
        );
    }
    skip["registryScopes"] = json!(["localhost:5000/invalid-test-repo"]);
    let d = ok(&doc(vec![exact.clone(), skip]));
    let e = d.statement_for("localhost:5000/e2e").unwrap_err();
    assert!(
        matches!(&e, PolicyError::NoApplicablePolicy { scope } if scope == "localhost:5000/e2e")
    );
    assert_eq!(
        e.reason(),
        crate::notary::policy::PolicyReason::NoApplicablePolicy
    );
    // No reference expansion, no prefix matching.
    assert!(d.statement_for("localhost:5000/test-repo9/sub").is_err());
    // The registry host is case-insensitive (a name cannot leave its statement for `*` by the
    // case of its host); the repository is not (uppercase is not a valid repository anyway).
    let d = ok(&doc(vec![exact.clone(), global.clone()]));
    assert_eq!(
        d.statement_for("LOCALHOST:5000/test-repo9").unwrap().name(),
        "exact"
    );
    assert_eq!(
        d.statement_for("LocalHost:5000/other").unwrap().name(),
        "exact"
    );
    assert_eq!(
        d.statement_for("LOCALHOST:5000/test-repo4").unwrap().name(),
        "global"
    );
    // Other spellings of the same repository: the port as a number, HTTPS's 443 left out, Docker
    // Hub's host names and its `library/` namespace. Another port, host or path stays another
    // repository.
    let mut hub = exact.clone();
    hub["name"] = json!("hub");
    hub["registryScopes"] = json!([
        "registry.example/app",
        "docker.io/library/alpine",
        "docker.io/team/app",
        "localhost:05000/spelled"
    ]);
    let d = ok(&doc(vec![hub, global.clone()]));
    for (scope, want) in [
        ("registry.example:443/app", "hub"),
        ("Registry.Example:0443/app", "hub"),
        ("registry.example:00000443/app", "hub"),
        ("registry.example:4443/app", "global"),
        ("registry.example:80/app", "global"),
        ("registry.example/app/sub", "global"),
        ("docker.io/alpine", "hub"),
        ("index.docker.io/library/alpine", "hub"),
        ("registry-1.docker.io/alpine", "hub"),
        ("index.docker.io:443/team/app", "hub"),
        ("docker.io/library/team/app", "global"),
        ("docker.io/other/alpine", "global"),
        ("localhost:5000/spelled", "hub"),
        ("localhost/spelled", "global"),
        ("localhost:99999999999999999999/spelled", "global"),
    ] {
        assert_eq!(d.statement_for(scope).unwrap().name(), want, "{scope}");
    }
    // The scope itself is validated, "*" included.
    for scope in [
        "*",
        "",
        "localhost:5000/e2e@sha256:abc",
        "Local/Repo",
        "e2e",
    ] {
        let e = d.statement_for(scope).unwrap_err();
        assert!(
            matches!(
                &e,
                PolicyError::ScopeInvalid {
                    statement: None,
                    ..
                }
            ),
            "{scope}: {e:?}"
        );
        assert_eq!(
            e.reason(),
            crate::notary::policy::PolicyReason::ScopeInvalid
        );
    }
}

#[test]
fn messages_name_the_offender() {
    let e = bad(&with(|s| s["trustStores"] = json!(["ca:valid", "tsa"])));
    let m = e.to_string();
    assert!(
        m.contains("\"tsa\"") && m.contains("test-statement-name"),
        "{m}"
    );
    let e = bad(&with(|s| s["registryScopes"] = json!(["Example.com/Rep"])));
    assert!(e.to_string().contains("\"Example.com/Rep\""), "{e}");
    let e =
        bad(&with(
            |s| {
                s["signatureVerification"] =
                    json!({"level": "strict", "override": {"integrity": "log"}})
            },
        ));
    assert!(e.to_string().contains("integrity"), "{e}");
}

#[test]
fn a_policy_written_as_arrays_is_malformed_as_notation_reads_it() {
    // serde's derive reads a struct from an array (fields in order); notation's json.Unmarshal
    // does not (red team D, D-01).
    let arrays = json!(["1.0", [["app", ["*"], {"level": "strict"}, ["ca:main"], ["*"]]]]);
    bad(&arrays);
    bad(
        &json!({"version": "1.0", "trustPolicies": [["app", ["*"], {"level": "strict"}, ["ca:main"], ["*"]]]}),
    );
    bad(&with(|s| s["signatureVerification"] = json!(["strict"])));
    // The same statement as objects is valid.
    ok(
        &json!({"version": "1.0", "trustPolicies": [{"name": "app", "registryScopes": ["*"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:main"], "trustedIdentities": ["*"]}]}),
    );
}
