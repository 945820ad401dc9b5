//! Per-certificate evaluation: candidates, the newest CRL of each scope, deltas named by the
//! base, entries, and the rule that no CRL can clear what another applicable CRL revokes.

use const_oid::ObjectIdentifier;
use der::Decode;
use x509_cert::crl::RevokedCert;

use super::super::time;
use super::super::x509::Certificate;
use super::{candidate, cmp_numbers, number_text, scope, Crl, CrlInput, CrlUse, Status};

const ID_CE_CRL_REASONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const ID_CE_HOLD_INSTRUCTION_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.23");
const ID_CE_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const ID_CE_CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");

/// RFC 5280 CRLReason `certificateHold`.
const REASON_HOLD: u8 = 6;
/// RFC 5280 CRLReason `removeFromCRL`.
const REASON_REMOVE: u8 = 8;

/// What one CRL (or a base merged with its delta) says about a serial number.
#[derive(Clone, Debug, PartialEq, Eq)]
enum View {
    /// No entry.
    NotListed,
    /// An entry that does not revoke: `removeFromCRL`, or an invalidity date after the
    /// authentic signing time.
    Cleared,
    /// `certificateHold`: revoked, but a newer CRL of the same scope may lift it.
    Hold,
    /// Revoked for good (the reason).
    Revoked(String),
    /// An entry that cannot be interpreted (why).
    Unknown(String),
}

impl View {
    /// Within one CRL, the worst of several entries for one serial wins.
    fn rank(&self) -> u8 {
        match self {
            View::NotListed => 0,
            View::Cleared => 1,
            View::Hold => 2,
            View::Unknown(_) => 3,
            View::Revoked(_) => 4,
        }
    }
}

fn reason_name(code: u8) -> String {
    let name = match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => return format!("reason code {code}"),
    };
    name.to_string()
}

/// One entry for the serial, on its own.
fn entry_view(entry: &RevokedCert, signing_time: Option<i64>) -> View {
    let mut code = None;
    let mut invalid = None;
    for ext in entry.crl_entry_extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        if ext.extn_id == ID_CE_CRL_REASONS {
            // CRLReason ::= ENUMERATED, every defined value fits one content byte.
            match value {
                [0x0a, 0x01, c] if *c < 0x80 => code = Some(*c),
                _ => return View::Unknown("the entry has a malformed reasonCode".into()),
            }
        } else if ext.extn_id == ID_CE_INVALIDITY_DATE {
            match der::asn1::GeneralizedTime::from_der(value) {
                Ok(t) => invalid = Some(time::from_generalized_time(&t).unwrap_or(i64::MAX)),
                Err(_) => return View::Unknown("the entry has a malformed invalidityDate".into()),
            }
        } else if ext.extn_id == ID_CE_CERTIFICATE_ISSUER {
            return View::Unknown(
                "the entry names a certificateIssuer (indirect CRL): not supported".into(),
            );
        } else if ext.critical && ext.extn_id != ID_CE_HOLD_INSTRUCTION_CODE {
            return View::Unknown(format!(
                "the entry carries an unknown critical extension {}",
                ext.extn_id
            ));
        }
    }
    if code == Some(REASON_REMOVE) {
        return View::Cleared;
    }
    if let (Some(signed), Some(invalid)) = (signing_time, invalid) {
        if signed < invalid {
            return View::Cleared;
        }
    }
    match code {
        Some(REASON_HOLD) => View::Hold,
        Some(c) => View::Revoked(format!("listed with reason {}", reason_name(c))),
        None => View::Revoked("listed (no reason code)".into()),
    }
}

/// What `crl` says about `serial`: the worst of its entries for it. An entry at or after one
/// carrying a `certificateIssuer` may belong to another issuer (indirect CRL): unknown.
fn crl_view(crl: &Crl, serial: &[u8], signing_time: Option<i64>) -> View {
    let mut indirect = false;
    let mut worst = View::NotListed;
    for e in crl.entries() {
        let e = match e {
            Ok(e) => e,
            // Cannot happen for a CRL that parsed; never read as "not listed".
            Err(why) => return View::Unknown(format!("an entry cannot be decoded: {why}")),
        };
        indirect |= e
            .crl_entry_extensions
            .iter()
            .flatten()
            .any(|x| x.extn_id == ID_CE_CERTIFICATE_ISSUER);
        if !cmp_numbers(e.serial_number.as_bytes(), serial).is_eq() {
            continue;
        }
        let v = if indirect {
            View::Unknown("an entry names a certificateIssuer (indirect CRL): not supported".into())
        } else {
            entry_view(&e, signing_time)
        };
        if v.rank() > worst.rank() {
            worst = v;
        }
    }
    worst
}

/// A candidate CRL (rule 2) and what it says about the certificate's serial.
struct Cand<'a> {
    input: &'a CrlInput,
    view: View,
}

impl Cand<'_> {
    fn crl(&self) -> &Crl {
        &self.input.crl
    }
}

/// The newest of `list` (one scope): highest CRLNumber when all have one, else latest
/// `thisUpdate`. Equally new CRLs are all returned.
fn newest<'a, 'b>(list: &[&'b Cand<'a>]) -> Vec<&'b Cand<'a>> {
    let numbered = list.iter().all(|c| c.crl().number().is_some());
    let cmp = |a: &Crl, b: &Crl| {
        let by_time = a.this_update().cmp(&b.this_update());
        match (numbered, a.number(), b.number()) {
            (true, Some(x), Some(y)) => cmp_numbers(x, y).then(by_time),
            _ => by_time,
        }
    };
    let mut best: Vec<&Cand> = Vec::new();
    for c in list {
        match best.first().map(|b| cmp(c.crl(), b.crl())) {
            None | Some(std::cmp::Ordering::Equal) => best.push(c),
            Some(std::cmp::Ordering::Greater) => best = vec![c],
            Some(std::cmp::Ordering::Less) => {}
        }
    }
    best
}

/// The deltas that apply to `base` for `uri`: all of them, and the newest.
struct Deltas<'a, 'b> {
    all: Vec<&'b Cand<'a>>,
    newest: Vec<&'b Cand<'a>>,
}

/// The delta CRLs for `base` (rule 5): `Ok(None)` when the base names no delta, an error when
/// it names one and none at hand applies.
fn deltas_for<'a, 'b>(
    cands: &'b [Cand<'a>],
    rejected: &[(bool, String)],
    base: &Cand<'a>,
    uri: &str,
    is_ca: bool,
) -> Result<Option<Deltas<'a, 'b>>, String> {
    let b = base.crl();
    let fresh = match b.freshest_uris() {
        None => return Ok(None),
        Some(Ok(f)) => f,
        Some(Err(e)) => {
            return Err(format!(
                "CRL {} has a malformed FreshestCRL: {e}",
                b.digest()
            ))
        }
    };
    let Some(base_no) = b.number() else {
        return Err(format!(
            "base CRL {} names a delta CRL but has no CRL number",
            b.digest()
        ));
    };
    let mut why: Vec<String> = rejected
        .iter()
        .filter(|(delta, _)| *delta)
        .map(|(_, w)| w.clone())
        .collect();
    let mut all = Vec::new();
    for d in cands.iter().filter(|c| c.crl().is_delta()) {
        let dc = d.crl();
        let indicator = dc.delta_indicator().unwrap_or_default();
        if cmp_numbers(indicator, base_no).is_gt() {
            why.push(format!(
                "delta CRL {} needs base CRL number {}, beyond the base's {}",
                dc.digest(),
                number_text(indicator),
                number_text(base_no)
            ));
            continue;
        }
        let Some(n) = dc.number() else {
            why.push(format!("delta CRL {} has no CRL number", dc.digest()));
            continue;
        };
        if !cmp_numbers(n, base_no).is_gt() {
            why.push(format!(
                "delta CRL {} number {} is not greater than the base's {}",
                dc.digest(),
                number_text(n),
                number_text(base_no)
            ));
            continue;
        }
        if let Err(w) = scope::delta_covers(d.input, base.input, fresh, uri, is_ca) {
            why.push(format!("delta CRL {} {w}", dc.digest()));
            continue;
        }
        all.push(d);
    }
    if all.is_empty() {
        let at = if fresh.is_empty() {
            String::new()
        } else {
            format!(" at {}", fresh.join(", "))
        };
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {}", why.join("; "))
        };
        return Err(format!(
            "base CRL {} for {uri} names a delta CRL{at} and none at hand applies{why}",
            b.digest()
        ));
    }
    let newest = newest(&all);
    Ok(Some(Deltas { all, newest }))
}

/// The verdict being assembled for one certificate.
#[derive(Default)]
struct Verdict {
    revoked: Option<String>,
    unknown: Vec<String>,
    uses: Vec<CrlUse>,
}

impl Verdict {
    fn used(&mut self, crl: &Crl, uri: &str) {
        let u = CrlUse::of(crl, uri);
        if !self.uses.contains(&u) {
            self.uses.push(u);
        }
    }

    fn unknown(&mut self, why: String) {
        if !self.unknown.contains(&why) {
            self.unknown.push(why);
        }
    }

    /// Records what `view`, decided by `crl`, means for `uri`.
    fn judge(&mut self, view: &View, crl: &Crl, uri: &str) {
        let by = format!("CRL {} for {uri}", crl.digest());
        match view {
            View::NotListed | View::Cleared => {}
            View::Hold => {
                if self.revoked.is_none() {
                    self.revoked = Some(format!("on hold (certificateHold) in {by}"));
                }
            }
            View::Revoked(r) => {
                if self.revoked.is_none() {
                    self.revoked = Some(format!("{r} in {by}"));
                }
            }
            View::Unknown(w) => self.unknown(format!("{w} in {by}")),
        }
    }

    fn status(self) -> (Status, Vec<CrlUse>) {
        let status = match (self.revoked, self.unknown.is_empty()) {
            (Some(r), _) => Status::Revoked(r),
            (None, false) => Status::Unknown(self.unknown.join("; ")),
            (None, true) => Status::Good,
        };
        (status, self.uses)
    }
}

/// The status of `cert`, issued by `issuer`, from `crls` at `at` (rules 1-6 of the module docs).
pub(super) fn check_cert(
    cert: &Certificate,
    issuer: &Certificate,
    crls: &[CrlInput],
    at: i64,
    signing_time: Option<i64>,
) -> (Status, Vec<CrlUse>) {
    let src = match scope::sources(cert) {
        Ok(s) => s,
        Err(e) => {
            return (
                Status::Unknown(format!("revocation extension: {e}")),
                Vec::new(),
            )
        }
    };
    if src.uris.is_empty() && src.unsupported.is_empty() {
        let status = if src.ocsp {
            Status::Unknown("only OCSP is named, and no responder can be reached offline".into())
        } else {
            Status::NonRevokable
        };
        return (status, Vec::new());
    }
    let issuer_name = issuer.subject_der();
    let serial = cert.serial();

    // Rule 2: the issuer's usable CRLs (each once), and why its others are not usable.
    let mut cands: Vec<Cand> = Vec::new();
    let mut rejected: Vec<(bool, String)> = Vec::new();
    for input in crls {
        let crl = &input.crl;
        if crl.issuer_der() != issuer_name
            || cands.iter().any(|c| {
                c.crl().digest() == crl.digest() && c.input.captured_from == input.captured_from
            })
        {
            continue;
        }
        match candidate(crl, issuer, at) {
            Ok(()) => cands.push(Cand {
                input,
                view: crl_view(crl, serial, signing_time),
            }),
            Err(why) => rejected.push((crl.is_delta(), format!("CRL {} {why}", crl.digest()))),
        }
    }

    let mut v = Verdict::default();
    for u in &src.unsupported {
        v.unknown(u.clone());
    }
    // Every candidate that applies to one of the certificate's URIs, with that URI.
    let mut applicable: Vec<(&Cand, &str)> = Vec::new();
    for uri in &src.uris {
        // Rule 3: the base CRLs covering this URI.
        let mut why: Vec<String> = rejected
            .iter()
            .filter(|(delta, _)| !*delta)
            .map(|(_, w)| w.clone())
            .collect();
        let mut covering: Vec<&Cand> = Vec::new();
        for c in cands.iter().filter(|c| !c.crl().is_delta()) {
            match scope::base_covers(c.input, uri, src.is_ca) {
                Ok(()) => covering.push(c),
                Err(w) => why.push(format!("CRL {} {w}", c.crl().digest())),
            }
        }
        if covering.is_empty() {
            let why = if why.is_empty() {
                format!(
                    "no CRL from the issuer {} is at hand",
                    issuer.subject_string()
                )
            } else {
                why.join("; ")
            };
            v.unknown(format!("no current CRL covers {uri}: {why}"));
            continue;
        }
        for &base in &covering {
            applicable.push((base, uri));
            if let Ok(Some(d)) = deltas_for(&cands, &rejected, base, uri, src.is_ca) {
                applicable.extend(d.all.into_iter().map(|d| (d, uri.as_str())));
            }
        }
        // Rule 4: the newest of each scope decides (CRL numbers are compared within a scope
        // only); rule 5: with the delta it names.
        let mut scopes: Vec<(Option<Vec<u8>>, Vec<&Cand>)> = Vec::new();
        for &c in &covering {
            let key = match scope::scope_key(c.input) {
                Ok(k) => k,
                Err(w) => {
                    v.unknown(format!("CRL {} {w}", c.crl().digest()));
                    continue;
                }
            };
            match scopes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(c),
                None => scopes.push((key, vec![c])),
            }
        }
        for base in scopes.iter().flat_map(|(_, list)| newest(list)) {
            v.used(base.crl(), uri);
            match deltas_for(&cands, &rejected, base, uri, src.is_ca) {
                Ok(None) if src.freshest => v.unknown(format!(
                    "freshest CRL from certificate extension is not supported: \
                     base CRL {} for {uri} names no delta CRL",
                    base.crl().digest()
                )),
                Ok(None) => v.judge(&base.view, base.crl(), uri),
                Ok(Some(deltas)) => {
                    for d in deltas.newest {
                        v.used(d.crl(), uri);
                        if d.view == View::NotListed {
                            v.judge(&base.view, base.crl(), uri);
                        } else {
                            v.judge(&d.view, d.crl(), uri);
                        }
                    }
                }
                Err(w) => v.unknown(w),
            }
        }
    }
    // No CRL can clear what another applicable one revokes for good (or cannot interpret).
    for (c, uri) in applicable {
        match &c.view {
            View::Revoked(_) if v.revoked.is_none() => {
                v.used(c.crl(), uri);
                v.judge(&c.view, c.crl(), uri);
            }
            View::Unknown(_) => v.judge(&c.view, c.crl(), uri),
            _ => {}
        }
    }
    v.status()
}
