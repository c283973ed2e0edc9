//! Packet timestamps: nanoseconds since the Unix epoch, and their RFC 3339 form.
//!
//! The core never reads a clock; every time it knows comes from a packet.

use serde::{Serialize, Serializer};

/// Nanoseconds since 1970-01-01T00:00:00Z, as recorded by the capturing host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const NANOS_PER_SEC: i64 = 1_000_000_000;

    /// Builds a timestamp from whole seconds and a fraction in nanoseconds, saturating instead of
    /// overflowing (fuzzed captures carry absurd values).
    pub fn from_parts(secs: i64, nanos: i64) -> Self {
        Timestamp(secs.saturating_mul(Self::NANOS_PER_SEC).saturating_add(nanos))
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(Self::NANOS_PER_SEC)
    }

    pub fn subsec_nanos(self) -> i64 {
        self.0.rem_euclid(Self::NANOS_PER_SEC)
    }

    /// Whole days since the epoch (UTC), for "N days before the capture" arithmetic.
    pub fn day_number(self) -> i64 {
        self.secs().div_euclid(86_400)
    }

    /// RFC 3339 in UTC: microsecond digits when the value has no finer part, nanoseconds otherwise.
    pub fn to_rfc3339(self) -> String {
        let secs = self.secs();
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        let (h, m, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
        let nanos = self.subsec_nanos();
        let frac = if nanos % 1000 == 0 { format!("{:06}", nanos / 1000) } else { format!("{nanos:09}") };
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac}Z")
    }

    /// Parses the `YYYY-MM-DD[ T]HH:MM:SS` prefix used by Tor documents (valid-after, published,
    /// Onionoo's relays_published). Fractions and a trailing `Z` are accepted and ignored.
    pub fn parse_utc(text: &str) -> Option<Self> {
        let t = text.trim().as_bytes();
        let num = |a: usize, b: usize| -> Option<i64> {
            let s = std::str::from_utf8(t.get(a..b)?).ok()?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        if t.get(4) != Some(&b'-') || t.get(7) != Some(&b'-') {
            return None;
        }
        let (h, mi, s) = if t.len() >= 19 { (num(11, 13)?, num(14, 16)?, num(17, 19)?) } else { (0, 0, 0) };
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(Timestamp::from_parts(days * 86_400 + h * 3600 + mi * 60 + s, 0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// Howard Hinnant's `civil_from_days`: proleptic Gregorian date of a day count.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2013-11-07 10:54:20.212806 UTC, the first packet of nDPI's tor.pcap per capinfos.
        assert_eq!(Timestamp::from_parts(1_383_821_660, 212_806_000).to_rfc3339(), "2013-11-07T10:54:20.212806Z");
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp(-1).to_rfc3339(), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn parses_tor_document_dates() {
        let t = Timestamp::parse_utc("2022-11-19 10:00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2022-11-19T10:00:00.000000Z");
        assert_eq!(Timestamp::parse_utc("2024-03-12").unwrap().day_number(), 19_794);
        assert!(Timestamp::parse_utc("2024-13-12").is_none());
    }
}
