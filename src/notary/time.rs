//! Time for the Notary rules, on `jiff`: RFC 3339 text (envelope headers, reports) and the ASN.1
//! times of certificates, CRLs and RFC 3161 tokens (UTCTime, GeneralizedTime).
//!
//! Unix seconds (`i64`) are the currency everywhere; [`Instant`] adds the nanoseconds an RFC 3161
//! `genTime` may carry. Calendar arithmetic is `jiff::civil`'s (proleptic Gregorian, years
//! 0000-9999 here), so a certificate valid until `99991231235959Z` (RFC 5280 §4.1.2.5, "no
//! well-defined expiration") converts like any other date. Nothing here reads the clock.

use jiff::civil::DateTime;

/// 1970-01-01T00:00:00 (UTC): Unix seconds are durations since this civil time.
const EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

/// A civil UTC date and time (whole seconds) as Unix seconds.
fn unix_seconds(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    let dt = DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    Some(dt.duration_since(EPOCH).as_secs())
}

/// The value of the ASCII decimal digits `bytes` (all of them must be digits).
fn decimal(bytes: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(v)
}

/// Two ASCII digits at `at`.
fn two_digits(b: &[u8], at: usize) -> Option<i64> {
    decimal(b.get(at..at.checked_add(2)?)?)
}

/// Parses an RFC 3339 date-time into Unix seconds, with the grammar of Go's `time.RFC3339` (which
/// notation uses): `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, upper-case `T` and `Z`, seconds
/// 00-59, offset hours 00-23, at least one fraction digit when the dot is there. Fractional seconds
/// are truncated toward the earlier second. `jiff` checks the calendar (month lengths, leap years).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    parse_rfc3339_nanos(s).map(|(secs, _)| secs)
}

/// [`parse_rfc3339`] with the fraction of a second kept: Unix seconds (rounded down) and
/// nanoseconds (the first nine digits of the fraction, as Go's `time` keeps them).
pub fn parse_rfc3339_nanos(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let year = decimal(b.get(0..4)?)?;
    let (month, day) = (two_digits(b, 5)?, two_digits(b, 8)?);
    let (hour, minute, second) = (two_digits(b, 11)?, two_digits(b, 14)?, two_digits(b, 17)?);
    let mut pos = 19usize;
    let mut nanos = 0u32;
    if b.get(pos) == Some(&b'.') {
        pos = pos.checked_add(1)?;
        let start = pos;
        while let Some(d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
            if pos - start < 9 {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            pos = pos.checked_add(1)?;
        }
        if pos == start {
            return None;
        }
        for _ in (pos - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(pos) {
        Some(b'Z') => {
            pos = pos.checked_add(1)?;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let oh = two_digits(b, pos.checked_add(1)?)?;
            if b.get(pos.checked_add(3)?) != Some(&b':') {
                return None;
            }
            let om = two_digits(b, pos.checked_add(4)?)?;
            if oh > 23 || om > 59 {
                return None;
            }
            pos = pos.checked_add(6)?;
            let off = oh * 3600 + om * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    if pos != b.len() {
        return None;
    }
    let secs = unix_seconds(year, month, day, hour, minute, second)?.checked_sub(offset)?;
    Some((secs, nanos))
}

/// RFC 3339 UTC text of Unix seconds (`2025-06-01T00:00:00Z`), or `None` outside the range `jiff`
/// timestamps cover.
pub fn format_rfc3339(t: i64) -> Option<String> {
    jiff::Timestamp::from_second(t).ok().map(|t| t.to_string())
}

/// [`format_rfc3339`] for messages and reports: the number itself when out of range.
pub fn rfc3339(t: i64) -> String {
    format_rfc3339(t).unwrap_or_else(|| t.to_string())
}

/// Unix seconds of a DER date-time (the decoded form of UTCTime and GeneralizedTime).
pub fn from_der_date_time(dt: &der::DateTime) -> Option<i64> {
    unix_seconds(
        i64::from(dt.year()),
        i64::from(dt.month()),
        i64::from(dt.day()),
        i64::from(dt.hour()),
        i64::from(dt.minutes()),
        i64::from(dt.seconds()),
    )
}

/// Unix seconds of an X.509 `Time` (UTCTime or GeneralizedTime): certificate validity, CRL
/// `thisUpdate`/`nextUpdate`.
pub fn from_asn1(t: &x509_cert::time::Time) -> Option<i64> {
    from_der_date_time(&t.to_date_time())
}

/// Unix seconds of a DER GeneralizedTime without fraction (CRL entry `invalidityDate`).
pub fn from_generalized_time(t: &der::asn1::GeneralizedTime) -> Option<i64> {
    from_der_date_time(&t.to_date_time())
}

/// A point in time with sub-second precision (an RFC 3161 `genTime` may carry fractions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    secs: i64,
    nanos: u32,
}

impl Instant {
    /// A whole second.
    pub fn from_secs(secs: i64) -> Self {
        Self { secs, nanos: 0 }
    }

    /// Unix seconds (the fraction truncated).
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// The fraction, in nanoseconds.
    pub fn nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch.
    pub fn total_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// `self < t` for a whole-second `t`.
    pub fn before(self, t: i64) -> bool {
        self.secs < t
    }

    /// `self > t` for a whole-second `t`.
    pub fn after(self, t: i64) -> bool {
        self.secs > t || (self.secs == t && self.nanos > 0)
    }
}

/// Parses the contents of a DER GeneralizedTime as RFC 3161 §2.4.2 restricts it for `genTime`:
/// `YYYYMMDDhhmmss[.f{1,9}]Z`, no trailing zero in the fraction, always UTC (Go's encoding/asn1,
/// which tspclient-go uses, accepts the same fractional form; der 0.7's `GeneralizedTime` refuses
/// fractions, hence this parser).
pub fn parse_rfc3161_gen_time(s: &[u8]) -> Option<Instant> {
    let (body, fraction) = match s.get(14) {
        Some(b'Z') if s.len() == 15 => (s.get(..14)?, None),
        Some(b'.') => {
            let frac = s.get(15..s.len().checked_sub(1)?)?;
            if s.last() != Some(&b'Z') || frac.is_empty() || frac.len() > 9 {
                return None;
            }
            if frac.last() == Some(&b'0') {
                return None;
            }
            (s.get(..14)?, Some(frac))
        }
        _ => return None,
    };
    let secs = unix_seconds(
        decimal(body.get(0..4)?)?,
        two_digits(body, 4)?,
        two_digits(body, 6)?,
        two_digits(body, 8)?,
        two_digits(body, 10)?,
        two_digits(body, 12)?,
    )?;
    let nanos = match fraction {
        None => 0,
        Some(f) => {
            let mut v = decimal(f)?;
            for _ in f.len()..9 {
                v = v.checked_mul(10)?;
            }
            u32::try_from(v).ok()?
        }
    };
    Some(Instant { secs, nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_examples() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2020-11-09T07:00:00Z"), Some(1_604_905_200));
        assert_eq!(
            parse_rfc3339("2023-06-27T13:30:33+08:00"),
            parse_rfc3339("2023-06-27T05:30:33Z")
        );
        assert_eq!(
            parse_rfc3339("2023-01-11T10:02:54-08:00"),
            parse_rfc3339("2023-01-11T18:02:54Z")
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T23:59:59.999999999Z"),
            Some(1_709_251_199)
        );
        // More fraction digits than nanoseconds (Go truncates them).
        assert_eq!(
            parse_rfc3339("2024-02-29T23:59:59.9999999999Z"),
            Some(1_709_251_199)
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(parse_rfc3339("2122-12-19T02:43:39Z"), Some(4_827_091_419));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Some(253_402_300_799));
        assert_eq!(
            format_rfc3339(1_604_905_200).unwrap(),
            "2020-11-09T07:00:00Z"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn rfc3339_rejects() {
        for bad in [
            "",
            "2023-06-27",
            "2023-06-27 13:30:33Z",
            "2023-06-27t13:30:33Z",
            "2023-06-27T13:30:33z",
            "2023-06-27T13:30:33",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-06-27T24:00:00Z",
            "2023-06-27T23:60:00Z",
            "2023-06-27T23:59:60Z",
            "2023-06-27T13:30:33.Z",
            "2023-06-27T13:30:33+24:00",
            "2023-06-27T13:30:33+0800",
            "2023-06-27T13:30:33Zjunk",
            "+023-06-27T13:30:33Z",
            "2023-06-27T13:30:33,5Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn asn1_times() {
        use der::asn1::{GeneralizedTime, UtcTime};
        use std::time::Duration;
        for secs in [0u64, 1_631_887_750, 2_524_607_999, 253_402_300_799] {
            let g = GeneralizedTime::from_unix_duration(Duration::from_secs(secs)).unwrap();
            assert_eq!(from_generalized_time(&g), i64::try_from(secs).ok());
            let t = x509_cert::time::Time::GeneralTime(g);
            assert_eq!(from_asn1(&t), i64::try_from(secs).ok());
        }
        let u = UtcTime::from_unix_duration(Duration::from_secs(1_631_887_750)).unwrap();
        assert_eq!(
            from_asn1(&x509_cert::time::Time::UtcTime(u)),
            Some(1_631_887_750)
        );
    }

    #[test]
    fn gen_time_forms() {
        let t = parse_rfc3161_gen_time(b"20210917140910Z").unwrap();
        assert_eq!(t, Instant::from_secs(1_631_887_750));
        assert_eq!(rfc3339(t.secs()), "2021-09-17T14:09:10Z");
        let t = parse_rfc3161_gen_time(b"20250107084224.587Z").unwrap();
        assert_eq!(t.nanos(), 587_000_000);
        let t = parse_rfc3161_gen_time(b"20000229235959.123456789Z").unwrap();
        assert_eq!(t.nanos(), 123_456_789);
        assert_eq!(rfc3339(t.secs()), "2000-02-29T23:59:59Z");
        for bad in [
            &b"20210917140910"[..],
            b"20210917140910+0100",
            b"20210917140910.Z",
            b"20210917140910.10Z",
            b"20210917140910.1234567891Z",
            b"20210230140910Z",
            b"21000229000000Z",
            b"20211317140910Z",
            b"20210917240910Z",
            b"20210917140960Z",
            b"2021091714091Z",
            b"2021-9171409100Z",
            b"",
        ] {
            assert!(parse_rfc3161_gen_time(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn instant_comparisons_are_inclusive() {
        let t = Instant::from_secs(100);
        assert!(!t.before(100) && !t.after(100));
        let t = Instant {
            secs: 100,
            nanos: 1,
        };
        assert!(t.after(100) && !t.before(100));
        assert!(Instant {
            secs: 99,
            nanos: 999
        }
        .before(100));
        assert_eq!(t.total_nanos(), 100_000_000_001);
    }
}
