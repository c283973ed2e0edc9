//! The relay history's input: interval files of relay presence by day and a coverage file
//! saying which source had a snapshot on which day (format and interval rule:
//! `../shared/relays/history/README.md`; the Pages workflow writes the same files from
//! CollecTor with `relays/history-collect`). Read at build time by `relays/build.rs`.
//!
//! - `relay-history-ip.tsv`: `ip, first_day, last_day, source`
//! - `relay-history-orport.tsv`: `ip, port, first_day, last_day, source`
//! - `coverage.tsv`: `source, day, snapshot (1 used, 0 none, -1 rejected), n_ip, n_ipv4, n_ipv6,
//!   n_orport, …`
//!
//! Lines starting with `#` are headers. Shared verbatim with the build script (std only, plus
//! `key.rs` for the index key and `time.rs`-free day arithmetic below).

use std::net::IpAddr;

/// One run of days on which a source listed a key (`key.rs`: address, port 0 = any port).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub key: Vec<u8>,
    pub first_day: i64,
    pub last_day: i64,
    pub source: u8,
}

/// A source of the history: what it lists and on which days it had a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    /// Lists exit addresses only (its absence says nothing about other relays).
    pub exits_only: bool,
    /// Lists address+ORPort pairs.
    pub ports: bool,
    /// Days (day numbers) with a snapshot in use.
    pub snapshot_days: Vec<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct HistoryInput {
    pub sources: Vec<Source>,
    pub intervals: Vec<Interval>,
}

/// Sources named `*exit*` (`secops-tor-exit-nodes`, `x4bnet-torexit`, `firehol-tor_exits`) list
/// exit addresses only: the README's source table says so for each of them.
fn exits_only(name: &str) -> bool {
    name.to_ascii_lowercase().contains("exit")
}

/// Day number (days since 1970-01-01) of a `YYYY-MM-DD` date.
pub fn parse_day(text: &str) -> Option<i64> {
    let t = text.as_bytes();
    if t.len() != 10 || t.get(4) != Some(&b'-') || t.get(7) != Some(&b'-') {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<i64> { text.get(a..b)?.parse().ok() };
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    Some(era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian year, month and day of a day number.
pub fn civil(day: i64) -> (i64, i64, i64) {
    let z = day.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl HistoryInput {
    fn source_id(&mut self, name: &str) -> Result<u8, String> {
        if let Some(i) = self.sources.iter().position(|s| s.name == name) {
            return Ok(i as u8);
        }
        if self.sources.len() >= 64 {
            return Err(format!("more than 64 sources (at {name}); the index keeps one bit per source"));
        }
        self.sources.push(Source { name: name.to_string(), exits_only: exits_only(name), ..Source::default() });
        Ok((self.sources.len() - 1) as u8)
    }

    /// `coverage.tsv`: the days each source had a snapshot (snapshot = 1), and whether it
    /// carries ORPorts (any day with n_orport > 0).
    pub fn add_coverage(&mut self, file: &str, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
            let bad = |why: &str| format!("{file}:{}: {why}", n + 1);
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(name), Some(day), Some(snapshot)) = (cols.first(), cols.get(1), cols.get(2)) else {
                return Err(bad("expected source, day, snapshot, … separated by tabs"));
            };
            let day = parse_day(day).ok_or_else(|| bad("the day is not YYYY-MM-DD"))?;
            let id = usize::from(self.source_id(name).map_err(|e| bad(&e))?);
            let Some(source) = self.sources.get_mut(id) else { continue };
            if cols.get(6).and_then(|c| c.parse::<u64>().ok()).is_some_and(|n| n > 0) {
                source.ports = true;
            }
            if *snapshot == "1" {
                source.snapshot_days.push(day);
            }
        }
        for s in &mut self.sources {
            s.snapshot_days.sort_unstable();
            s.snapshot_days.dedup();
        }
        Ok(())
    }

    /// An interval file: `ip, first, last, source` (`with_port` false) or `ip, port, first,
    /// last, source`. Address-only lines get port 0 (`key::ANY_PORT`).
    pub fn add_intervals(
        &mut self,
        file: &str,
        text: &str,
        with_port: bool,
        encode: impl Fn(IpAddr, u16) -> Vec<u8>,
    ) -> Result<(), String> {
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
            let bad = |why: &str| format!("{file}:{}: {why}", n + 1);
            let cols: Vec<&str> = line.split('\t').collect();
            let want = if with_port { 5 } else { 4 };
            let col = |i: usize| {
                cols.get(i)
                    .copied()
                    .ok_or_else(|| bad(&format!("expected {want} tab-separated columns, found {}", cols.len())))
            };
            let ip: IpAddr = col(0)?.parse().map_err(|_| bad("not an IP address"))?;
            let port = if with_port { col(1)?.parse::<u16>().map_err(|_| bad("not a port number"))? } else { 0 };
            let at = usize::from(with_port);
            let first = parse_day(col(1 + at)?).ok_or_else(|| bad("first_day is not YYYY-MM-DD"))?;
            let last = parse_day(col(2 + at)?).ok_or_else(|| bad("last_day is not YYYY-MM-DD"))?;
            if last < first {
                return Err(bad("last_day is before first_day"));
            }
            let source = self.source_id(col(3 + at)?).map_err(|e| bad(&e))?;
            if let Some(s) = self.sources.get_mut(usize::from(source)).filter(|_| with_port) {
                s.ports = true;
            }
            self.intervals.push(Interval { key: encode(ip, port), first_day: first, last_day: last, source });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2024-03-12"), Some(19_794));
        for day in [-1000, 0, 17_000, 19_794, 20_687] {
            assert_eq!(parse_day(&format_day(day)), Some(day));
        }
        assert_eq!(parse_day("2024-3-12"), None);
    }
}
