//! Scope: which distribution points a certificate names, and which of them a CRL covers
//! (IssuingDistributionPoint against the certificate's CRLDistributionPoints; SPEC-NOTES
//! erratum 14).

use x509_cert::ext::pkix::crl::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;

use super::super::x509::Certificate;
use super::{uri_of, CrlInput};

/// The revocation sources a certificate names.
#[derive(Debug, Default)]
pub(super) struct Sources {
    /// The URIs of its CRL distribution points that can be covered, deduplicated, in order.
    pub uris: Vec<String>,
    /// Distribution points that cannot be covered offline (with `cRLIssuer` or `reasons`),
    /// described for the verdict.
    pub unsupported: Vec<String>,
    /// It has its own FreshestCRL extension.
    pub freshest: bool,
    /// It names an OCSP responder.
    pub ocsp: bool,
    /// basicConstraints `cA` is true.
    pub is_ca: bool,
}

/// Reads a certificate's CRLDistributionPoints, FreshestCRL, AuthorityInfoAccess and
/// basicConstraints from the X.509 view. A malformed one is an error (the status is then unknown).
pub(super) fn sources(cert: &Certificate) -> Result<Sources, String> {
    let mut s = Sources::default();
    if let Some(dps) = cert.crl_distribution_points().map_err(|e| e.to_string())? {
        for dp in &dps.0 {
            let uris: Vec<String> = match &dp.distribution_point {
                Some(DistributionPointName::FullName(names)) => {
                    names.iter().filter_map(uri_of).collect()
                }
                _ => Vec::new(),
            };
            let why = match (dp.crl_issuer.is_some(), dp.reasons.is_some()) {
                (true, true) => Some("a cRLIssuer and reasons"),
                (true, false) => Some("a cRLIssuer (indirect CRL)"),
                (false, true) => Some("reasons (a partial CRL)"),
                (false, false) => None,
            };
            if let Some(why) = why {
                let at = if uris.is_empty() {
                    "a distribution point".to_string()
                } else {
                    format!("distribution point {}", uris.join(", "))
                };
                s.unsupported.push(format!("{at} has {why}: not supported"));
                continue;
            }
            for uri in uris {
                if !s.uris.contains(&uri) {
                    s.uris.push(uri);
                }
            }
        }
    }
    s.freshest = cert.has_freshest_crl();
    s.ocsp = cert.names_ocsp().map_err(|e| e.to_string())?;
    s.is_ca = cert
        .basic_constraints()
        .map_err(|e| e.to_string())?
        .is_some_and(|bc| bc.ca);
    Ok(s)
}

/// The IDP flags that restrict which certificates a CRL covers.
fn flags(idp: &IssuingDistributionPoint, is_ca: bool) -> Result<(), String> {
    if idp.only_contains_user_certs && is_ca {
        return Err(
            "covers end-entity certificates only (onlyContainsUserCerts), not this CA".into(),
        );
    }
    if idp.only_contains_ca_certs && !is_ca {
        return Err("covers CA certificates only (onlyContainsCACerts), not this leaf".into());
    }
    if idp.only_contains_attribute_certs {
        return Err("covers attribute certificates only (onlyContainsAttributeCerts)".into());
    }
    if idp.only_some_reasons.is_some() {
        return Err("covers only some reasons (onlySomeReasons): not supported".into());
    }
    if idp.indirect_crl {
        return Err("is an indirect CRL (indirectCRL): not supported".into());
    }
    Ok(())
}

fn names(idp: &IssuingDistributionPoint) -> Result<Option<Vec<String>>, String> {
    match &idp.distribution_point {
        None => Ok(None),
        Some(DistributionPointName::FullName(names)) => {
            Ok(Some(names.iter().filter_map(uri_of).collect()))
        }
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => Err(
            "names its distribution point relative to the issuer (IssuingDistributionPoint): \
             not supported"
                .into(),
        ),
    }
}

fn scoped_to(list: &[String]) -> String {
    if list.is_empty() {
        "is scoped to a distribution point without a URI (IssuingDistributionPoint)".into()
    } else {
        format!(
            "is scoped to {} (IssuingDistributionPoint)",
            list.join(", ")
        )
    }
}

/// Whether the base CRL `input` covers the certificate's distribution point `uri`: no IDP (a
/// complete CRL), an IDP naming `uri`, or an IDP naming no distribution point on a CRL captured
/// from `uri`; and flags that admit this certificate.
pub(super) fn base_covers(input: &CrlInput, uri: &str, is_ca: bool) -> Result<(), String> {
    let Some(idp) = input.crl.idp()? else {
        return Ok(());
    };
    flags(idp, is_ca)?;
    match names(idp)? {
        None if input.captured_from.as_deref() == Some(uri) => Ok(()),
        None => Err(format!(
            "names no distribution point (IssuingDistributionPoint) and was not captured from {uri}"
        )),
        Some(list) if list.iter().any(|u| u == uri) => Ok(()),
        Some(list) => Err(scoped_to(&list)),
    }
}

/// The scope of a base CRL, as a key: its IssuingDistributionPoint re-encoded (`None` for a
/// complete CRL of its issuer). CRL numbers mean something only within one scope (RFC 5280
/// 5.2.3: "monotonically increasing ... for a given CRL scope and CRL issuer"), so only CRLs with
/// the same key are compared (red team N, N04: a complete CRL numbered 5 was taken as newer than,
/// and so lifted a hold of, a distribution point's CRL numbered 3 an hour old).
pub(super) fn scope_key(input: &CrlInput) -> Result<Option<Vec<u8>>, String> {
    match input.crl.idp()? {
        None => Ok(None),
        Some(idp) => der::Encode::to_der(idp)
            .map(Some)
            .map_err(|e| format!("IssuingDistributionPoint: {e}")),
    }
}

/// Whether the delta CRL `input` is in the scope of the base CRL `base`, whose FreshestCRL names
/// `fresh`, for the certificate's distribution point `uri`. The delta and the base it updates have
/// one scope (RFC 5280 5.2.4, 6.3.3): a delta without an IssuingDistributionPoint is a delta of the
/// issuer's complete CRL and applies only to a base without one; a delta of a complete base may
/// otherwise only name (or have been captured from) the places the base's FreshestCRL names, never
/// merely the certificate's distribution point, which is another scope's (red team N, N04: a
/// complete-scope delta's `removeFromCRL` lifted a distribution point CRL's hold).
pub(super) fn delta_covers(
    input: &CrlInput,
    base: &CrlInput,
    fresh: &[String],
    uri: &str,
    is_ca: bool,
) -> Result<(), String> {
    let base_scoped = base.crl.idp()?.is_some();
    let Some(idp) = input.crl.idp()? else {
        return if base_scoped {
            Err(
                "is a delta of the issuer's complete CRL (no IssuingDistributionPoint), and the \
                 base CRL is scoped to distribution points"
                    .into(),
            )
        } else {
            Ok(())
        };
    };
    flags(idp, is_ca)?;
    let named = |u: &String| fresh.contains(u) || (base_scoped && u == uri);
    match names(idp)? {
        None => match &input.captured_from {
            Some(c) if fresh.contains(c) => Ok(()),
            _ => Err(format!(
                "names no distribution point (IssuingDistributionPoint) \
                 and was not captured from {}",
                if fresh.is_empty() {
                    "a delta location of the base CRL".to_string()
                } else {
                    fresh.join(", ")
                }
            )),
        },
        Some(list) if list.iter().any(named) => Ok(()),
        Some(list) => Err(scoped_to(&list)),
    }
}
