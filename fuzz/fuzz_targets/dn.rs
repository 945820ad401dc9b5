//! Distinguished names (`x509.subject:` identities): parse one or two (split at the first newline)
//! and compare them; the display form must parse back to the same DN.
#![no_main]
use airlock::notary::dn::DistinguishedName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, text));
    let (Ok(x), Ok(y)) = (DistinguishedName::parse(a), DistinguishedName::parse(b)) else {
        return;
    };
    let _ = (x.len(), x.is_empty(), x.get("CN"), x.get("C"));
    for (k, v) in x.iter() {
        let _ = x.get(k).map(|w| w.len() + v.len());
    }
    let _ = (
        x.is_subset_of(&y),
        y.is_subset_of(&x),
        x.overlaps(&y),
        y.overlaps(&x),
    );
    assert!(x.is_subset_of(&x), "a DN is a subset of itself");
    // Display is the RFC 4514 form: it must parse back to the same DN.
    let shown = x.to_string();
    assert_eq!(
        DistinguishedName::parse(&shown).as_ref(),
        Ok(&x),
        "{shown:?}"
    );
});
