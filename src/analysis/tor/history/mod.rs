//! Relay history: was this address (or address+ORPort) a Tor relay on that day? Intervals of
//! presence by day from public daily relay lists (`tsv.rs` names the input), compiled at build
//! time into one shard per year (`shard.rs`). The CLI embeds every shard; the page fetches the
//! shards of the years a capture or a lookup needs (`history-YYYY.idx`).
//!
//! Answers are three-valued, like ExoneraTor's: listed, not listed although a source had a
//! snapshot of every relay that day, or no data for that day.

pub mod lookup;
pub mod shard;
pub mod tsv;

use super::relays::key;
use serde::Serialize;
use shard::Shard;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

#[cfg(not(target_arch = "wasm32"))]
static BUILTIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/history.bin"));
#[cfg(target_arch = "wasm32")]
static BUILTIN: &[u8] = &[];

/// A run of days on which one source listed the key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Presence {
    #[serde(serialize_with = "as_date")]
    pub first_day: i64,
    #[serde(serialize_with = "as_date")]
    pub last_day: i64,
    pub source: String,
    /// The source lists exit addresses only (its shard's flag; not part of the JSON).
    #[serde(skip)]
    pub exits_only: bool,
}

fn as_date<S: serde::Serializer>(day: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&tsv::format_day(*day))
}

/// A source's standing on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceOnDay {
    pub source: String,
    /// `all relays` or `exit relays`.
    pub lists: &'static str,
    pub ports: bool,
    /// The source had a snapshot of that day.
    pub snapshot: bool,
    /// The key is inside one of the source's intervals on that day.
    pub listed: bool,
}

/// The answer for one key on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayAnswer {
    /// `Some(true)`: listed that day; `Some(false)`: not listed although a source of every relay
    /// (with ORPorts, for a port) had a snapshot that day; `None`: no such snapshot.
    pub listed: Option<bool>,
    /// The sources that listed the key or had a snapshot that day.
    pub sources: Vec<SourceOnDay>,
}

/// The nearest presence of a key to a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nearest {
    pub presence: Presence,
    /// The interval's day nearest to the asked day minus the asked day (0: listed that day).
    pub day_gap: i64,
}

/// The shards loaded so far, by year; cloning shares them.
#[derive(Clone, Default)]
pub struct RelayHistory {
    shards: BTreeMap<i64, Arc<Shard>>,
}

impl std::fmt::Debug for RelayHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayHistory").field("years", &self.years()).finish()
    }
}

/// The shards inside the build's `history.bin` (see `relays/build.rs`), as (year, bytes).
fn archive_entries(archive: &'static [u8]) -> Vec<(i64, &'static [u8])> {
    let mut out = Vec::new();
    if archive.get(..5) != Some(b"TSRHA") {
        return out;
    }
    let le16 = |at: usize| archive.get(at..at + 2).and_then(|b| b.try_into().ok()).map(u16::from_le_bytes);
    let le32 = |at: usize| archive.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    let count = usize::from(le16(5).unwrap_or(0));
    let mut offset = 7 + count * 6;
    for i in 0..count {
        let (Some(year), Some(len)) = (le16(7 + i * 6), le32(9 + i * 6)) else { break };
        let Some(bytes) = archive.get(offset..offset + len as usize) else { break };
        out.push((i64::from(year), bytes));
        offset += len as usize;
    }
    out
}

impl RelayHistory {
    /// Every shard compiled into this build (none in the page's wasm: it fetches them).
    pub fn builtin() -> RelayHistory {
        let mut history = RelayHistory::default();
        for (year, bytes) in archive_entries(BUILTIN) {
            if let Some(shard) = Shard::parse(Cow::Borrowed(bytes)) {
                history.shards.insert(year, Arc::new(shard));
            }
        }
        history
    }

    /// The built-in shards' bytes by year, for `torsift history --export` (the page's files).
    pub fn builtin_shards() -> Vec<(i64, &'static [u8])> {
        archive_entries(BUILTIN)
    }

    /// Adds one shard (`history-YYYY.idx`); false when the bytes are not a shard.
    pub fn add_shard(&mut self, bytes: Vec<u8>) -> bool {
        match Shard::parse(Cow::Owned(bytes)).filter(Shard::is_intact) {
            Some(shard) => {
                self.shards.insert(shard.year, Arc::new(shard));
                true
            }
            None => false,
        }
    }

    /// The same history with only these years (shares the shards).
    pub fn restricted(&self, years: impl IntoIterator<Item = i64>) -> RelayHistory {
        let mut out = RelayHistory::default();
        for y in years {
            if let Some(shard) = self.shards.get(&y) {
                out.shards.insert(y, shard.clone());
            }
        }
        out
    }

    /// The years a capture's day is matched against: its own and, at a year's edge, the
    /// neighbour within a day (ExoneraTor's ±1 day). The page fetches exactly these, so the
    /// CLI, which has every year, answers the same.
    pub fn years_near(day: i64) -> std::ops::RangeInclusive<i64> {
        tsv::civil(day - 1).0..=tsv::civil(day + 1).0
    }

    pub fn years(&self) -> Vec<i64> {
        self.shards.keys().copied().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The names of the sources, as the loaded shards give them.
    pub fn source_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.shards.values().flat_map(|s| s.sources.iter().map(|x| x.name.clone())).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Days with a snapshot of every relay (any source), and the first and last such day.
    pub fn coverage(&self) -> Coverage {
        let full = |s: &shard::ShardSource| !s.exits_only();
        let mut c = Coverage::default();
        for shard in self.shards.values() {
            c.days_with_data += shard.covered_days(full);
            for day in shard.first_day..shard.first_day + shard.days {
                if shard.sources.iter().enumerate().any(|(i, s)| full(s) && shard.has_snapshot(i, day)) {
                    c.first_day = Some(c.first_day.map_or(day, |f: i64| f.min(day)));
                    c.last_day = Some(c.last_day.map_or(day, |l: i64| l.max(day)));
                }
            }
        }
        c
    }

    /// Every presence of `ip` (with `port`: of that address+ORPort) in the loaded years, runs
    /// split at a year's end joined again.
    pub fn presences(&self, ip: IpAddr, port: Option<u16>) -> Vec<Presence> {
        self.presences_in(i64::MIN..=i64::MAX, ip, port)
    }

    /// [`RelayHistory::presences`] in the loaded years among `years`.
    fn presences_in(&self, years: std::ops::RangeInclusive<i64>, ip: IpAddr, port: Option<u16>) -> Vec<Presence> {
        let key = key::encode(ip, port.unwrap_or(key::ANY_PORT));
        // Shards in year order, each key's runs by first day: the output is in first-day order
        // without sorting.
        let mut out: Vec<Presence> = Vec::new();
        for shard in self.shards.iter().filter(|(year, _)| years.contains(year)).map(|(_, shard)| shard) {
            for (first, last, mask) in shard.intervals(&key) {
                for (s, source) in shard.sources.iter().enumerate().take(64) {
                    if mask & (1u64 << s) == 0 {
                        continue;
                    }
                    // The interval rule never yields two runs of one source on adjacent days,
                    // so a run of the same source ending the day before is one cut at 31
                    // December: join them.
                    let cut = out.iter_mut().rev().find(|p| {
                        p.source == source.name && p.last_day.checked_add(1) == Some(first) && first == shard.first_day
                    });
                    match cut {
                        Some(p) => p.last_day = last,
                        None => out.push(Presence {
                            first_day: first,
                            last_day: last,
                            source: source.name.clone(),
                            exits_only: source.exits_only(),
                        }),
                    }
                }
            }
        }
        out
    }

    /// Listed, not listed or no data on `day` (see [`DayAnswer`]).
    pub fn on_day(&self, ip: IpAddr, port: Option<u16>, day: i64) -> DayAnswer {
        let presences = self.presences(ip, port);
        let listing: Vec<&str> =
            presences.iter().filter(|p| (p.first_day..=p.last_day).contains(&day)).map(|p| p.source.as_str()).collect();
        let mut sources = Vec::new();
        let mut vouches = false;
        let year = tsv::civil(day).0;
        if let Some(shard) = self.shards.get(&year) {
            for (i, s) in shard.sources.iter().enumerate() {
                let snapshot = shard.has_snapshot(i, day);
                let listed = listing.contains(&s.name.as_str());
                // An absence counts only from a list of every relay, with ports for a port.
                vouches |= snapshot && !s.exits_only() && (port.is_none() || s.ports());
                if snapshot || listed {
                    sources.push(SourceOnDay {
                        source: s.name.clone(),
                        lists: if s.exits_only() { "exit relays" } else { "all relays" },
                        ports: s.ports(),
                        snapshot,
                        listed,
                    });
                }
            }
        }
        let listed = if !listing.is_empty() {
            Some(true)
        } else if vouches {
            Some(false)
        } else {
            None
        };
        DayAnswer { listed, sources }
    }

    /// The presence nearest to `day` within the years near it ([`RelayHistory::years_near`]):
    /// listed that day first, then the smallest gap; sources of every relay before exit lists.
    pub fn nearest(&self, ip: IpAddr, port: Option<u16>, day: i64) -> Option<Nearest> {
        self.presences_in(Self::years_near(day), ip, port)
            .into_iter()
            .map(|p| {
                let gap = if day < p.first_day {
                    p.first_day - day
                } else if day > p.last_day {
                    p.last_day - day
                } else {
                    0
                };
                Nearest { presence: p, day_gap: gap }
            })
            .min_by_key(|n| (n.day_gap.abs(), n.presence.exits_only, n.presence.first_day))
    }

    /// Whether a source of every relay (with ORPorts when `ports`) had a snapshot on each of the
    /// days `day - radius ..= day + radius`; the sources that did.
    pub fn vouching_sources(&self, day: i64, radius: i64, ports: bool) -> Option<Vec<String>> {
        let mut names = Vec::new();
        for d in day - radius..=day + radius {
            let shard = self.shards.get(&tsv::civil(d).0)?;
            let on_day: Vec<&str> = shard
                .sources
                .iter()
                .enumerate()
                .filter(|(i, s)| !s.exits_only() && (!ports || s.ports()) && shard.has_snapshot(*i, d))
                .map(|(_, s)| s.name.as_str())
                .collect();
            if on_day.is_empty() {
                return None;
            }
            names.extend(on_day.into_iter().map(String::from));
        }
        names.sort_unstable();
        names.dedup();
        Some(names)
    }
}

/// What the loaded history covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    #[serde(serialize_with = "opt_date")]
    pub first_day: Option<i64>,
    #[serde(serialize_with = "opt_date")]
    pub last_day: Option<i64>,
    pub days_with_data: i64,
}

fn opt_date<S: serde::Serializer>(day: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(d) => s.serialize_str(&tsv::format_day(*d)),
        None => s.serialize_none(),
    }
}
