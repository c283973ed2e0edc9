//! One year of relay history as one byte blob: written by [`write_years`] at build time, read in
//! place by [`Shard::parse`]. A capture needs only its own year, so the page fetches one shard
//! (`history-YYYY.idx`) rather than the whole history.
//!
//! Layout (little-endian): magic `TSRH1`, year u16, first day i32 (1 January, days since
//! 1970-01-01), days u16, then
//! - sources: u8 count; each: name (u8 length + UTF-8), flags u8 (bit 0: exit addresses only,
//!   bit 1: gives ORPorts), one bit per day of the year: a snapshot of that day was used;
//! - spans: u32 length + bytes: LEB128 count, then each distinct run of days of the year (the
//!   most used first): first day minus 1 January, last day minus first day, and the bit mask of
//!   the sources that listed exactly this run;
//! - fst: u32 length + bytes; a map from a key's block prefix (`key.rs` order: family ‖ an
//!   IPv4 /16 or an IPv6 /32, see [`block_prefix_len`]) to the block's offsets in the two
//!   streams below (key stream << 32 | span-id stream);
//! - key stream: u32 length + bytes; per block: LEB128 key count, then per key in key order:
//!   the address bytes after the prefix as a number minus the previous key's, times two, plus
//!   one when a port follows (LEB128; none = address only);
//! - span-id stream: u32 length + bytes; per key, its span ids, each times two plus one when
//!   another follows.
//!
//! Why not one fst entry per key, like the relay index: a year holds ~100 k addresses spread
//! over the whole address space, where an fst shares almost no prefixes; measured on the
//! 2018 history it took 8 bytes per key (765 KB, 471 KB gzip) against a 400 KB budget for the
//! whole shard. The fst still finds the block; delta-coded keys and shared spans do the rest.
//!
//! Shared with the build script.

use super::tsv::HistoryInput;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub const MAGIC: &[u8; 5] = b"TSRH1";
pub const EXITS_ONLY: u8 = 1;
pub const PORTS: u8 = 2;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// 1 January of `year` and the number of days in it.
fn year_span(year: i64) -> (i64, i64) {
    let first = super::tsv::parse_day(&format!("{year:04}-01-01")).unwrap_or(0);
    let next = super::tsv::parse_day(&format!("{:04}-01-01", year + 1)).unwrap_or(first + 365);
    (first, next - first)
}

/// One shard per year that any interval or snapshot touches, in year order.
pub fn write_years(input: &HistoryInput) -> Result<Vec<(i64, Vec<u8>)>, String> {
    let year_of = |day: i64| super::tsv::civil(day).0;
    let mut years: Vec<i64> = input
        .intervals
        .iter()
        .flat_map(|i| year_of(i.first_day)..=year_of(i.last_day))
        .chain(input.sources.iter().flat_map(|s| s.snapshot_days.iter().map(|&d| year_of(d))))
        .collect();
    years.sort_unstable();
    years.dedup();
    let mut sorted: Vec<&super::tsv::Interval> = input.intervals.iter().collect();
    sorted.sort_unstable();
    years.into_iter().map(|year| Ok((year, write_year(input, &sorted, year)?))).collect()
}

/// Bytes of a key that name its block: `family ‖` the first 2 bytes of an IPv4 address (a /16)
/// or the first 4 of an IPv6 address (a /32). Relays cluster by provider, so blocks stay small.
pub fn block_prefix_len(key: &[u8]) -> usize {
    match key.first() {
        Some(6) => 5,
        _ => 3,
    }
}

/// The rest of a key after its block prefix: the address bytes as a number, and the port.
fn key_rest(key: &[u8]) -> (u128, u16) {
    let rest = key.get(block_prefix_len(key)..).unwrap_or(&[]);
    let (address, port) = rest.split_at(rest.len().saturating_sub(2));
    let port = port.iter().fold(0u16, |acc, &b| (acc << 8) | u16::from(b));
    (address.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b)), port)
}

/// One key's runs in a year: (first day, last day) → the sources that listed exactly that run.
type Runs = BTreeMap<(i64, i64), u64>;

fn write_year(input: &HistoryInput, sorted: &[&super::tsv::Interval], year: i64) -> Result<Vec<u8>, String> {
    let (first_day, days) = year_span(year);
    let last_day = first_day + days - 1;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(year as u16).to_le_bytes());
    out.extend_from_slice(&(first_day as i32).to_le_bytes());
    out.extend_from_slice(&(days as u16).to_le_bytes());
    out.push(input.sources.len() as u8);
    for source in &input.sources {
        let name = source.name.get(..source.name.len().min(255)).unwrap_or("");
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.push(if source.exits_only { EXITS_ONLY } else { 0 } | if source.ports { PORTS } else { 0 });
        let mut bits = vec![0u8; (days as usize).div_ceil(8)];
        for d in source.snapshot_days.iter().filter(|&&d| (first_day..=last_day).contains(&d)) {
            let i = (d - first_day) as usize;
            if let Some(b) = bits.get_mut(i / 8) {
                *b |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&bits);
    }
    // key → spans (first, last, sources); `sorted` is in key order, so the map fills in order.
    let mut keys: BTreeMap<&[u8], Runs> = BTreeMap::new();
    for i in sorted.iter().filter(|i| i.first_day <= last_day && i.last_day >= first_day) {
        let span = (i.first_day.max(first_day), i.last_day.min(last_day));
        *keys.entry(&i.key).or_default().entry(span).or_insert(0) |= 1u64 << i.source;
    }
    // Spans repeat across keys (relays that stayed all year, days a source missed): one table
    // of distinct spans, the most used first, so most postings are one byte per span.
    let mut uses: BTreeMap<(i64, i64, u64), u64> = BTreeMap::new();
    for spans in keys.values() {
        for (&(f, l), &m) in spans {
            *uses.entry((f, l, m)).or_insert(0) += 1;
        }
    }
    let mut table: Vec<((i64, i64, u64), u64)> = uses.into_iter().collect();
    table.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let span_id: BTreeMap<(i64, i64, u64), u64> =
        table.iter().enumerate().map(|(i, (span, _))| (*span, i as u64)).collect();
    let mut spans_bytes = Vec::new();
    put_varint(&mut spans_bytes, table.len() as u64);
    for ((f, l, m), _) in &table {
        put_varint(&mut spans_bytes, (f - first_day) as u64);
        put_varint(&mut spans_bytes, (l - f) as u64);
        put_varint(&mut spans_bytes, *m);
    }
    // Blocks: keys sharing a prefix. Two streams, so that deflate sees like next to like: the
    // keys (each address minus the previous one, times two, plus one when a port follows) and
    // their span ids (each times two, plus one when another follows). Most keys are one address
    // with one run: about three bytes of keys and one or two of spans.
    let mut map = fst::MapBuilder::memory();
    let (mut key_stream, mut span_stream) = (Vec::new(), Vec::new());
    let entries: Vec<(&[u8], &Runs)> = keys.iter().map(|(k, v)| (*k, v)).collect();
    let prefix = |k: &[u8]| k.get(..block_prefix_len(k)).unwrap_or(k).to_vec();
    for block in entries.chunk_by(|a, b| prefix(a.0) == prefix(b.0)) {
        let Some((first_key, _)) = block.first() else { continue };
        let offsets = ((key_stream.len() as u64) << 32) | span_stream.len() as u64;
        map.insert(prefix(first_key), offsets).map_err(|e| e.to_string())?;
        put_varint(&mut key_stream, block.len() as u64);
        let mut previous = 0u128;
        for (k, spans) in block {
            let (address, port) = key_rest(k);
            put_varint128(&mut key_stream, ((address - previous) << 1) | u128::from(port != 0));
            if port != 0 {
                put_varint(&mut key_stream, u64::from(port));
            }
            previous = address;
            let ids: Vec<u64> = spans.iter().filter_map(|(&(f, l), &m)| span_id.get(&(f, l, m)).copied()).collect();
            for (n, id) in ids.iter().enumerate() {
                put_varint(&mut span_stream, (id << 1) | u64::from(n + 1 < ids.len()));
            }
        }
    }
    let fst_bytes = map.into_inner().map_err(|e| e.to_string())?;
    for part in [&spans_bytes, &fst_bytes, &key_stream, &span_stream] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    Ok(out)
}

fn put_varint128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint128(buf: &[u8], at: &mut usize) -> Option<u128> {
    let mut v = 0u128;
    for shift in (0..128).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u128::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// A source as one shard describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSource {
    pub name: String,
    pub flags: u8,
    coverage: Vec<u8>,
}

impl ShardSource {
    pub fn exits_only(&self) -> bool {
        self.flags & EXITS_ONLY != 0
    }

    pub fn ports(&self) -> bool {
        self.flags & PORTS != 0
    }
}

/// One year of history, read in place.
pub struct Shard {
    pub year: i64,
    pub first_day: i64,
    pub days: i64,
    pub sources: Vec<ShardSource>,
    spans: Vec<(i64, i64, u64)>,
    map: fst::Map<Cow<'static, [u8]>>,
    keys: Cow<'static, [u8]>,
    span_ids: Cow<'static, [u8]>,
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard").field("year", &self.year).field("blocks", &self.map.len()).finish()
    }
}

fn take<'a>(buf: &'a [u8], at: &mut usize, n: usize) -> Option<&'a [u8]> {
    let out = buf.get(*at..at.checked_add(n)?)?;
    *at += n;
    Some(out)
}

fn le32(buf: &[u8], at: &mut usize) -> Option<u32> {
    Some(u32::from_le_bytes(take(buf, at, 4)?.try_into().ok()?))
}

impl Shard {
    /// Reads a shard; `None` when the bytes are not one (wrong magic, truncated, bad fst).
    pub fn parse(blob: Cow<'static, [u8]>) -> Option<Shard> {
        let bytes: &[u8] = &blob;
        let mut at = 0;
        if take(bytes, &mut at, 5)? != MAGIC {
            return None;
        }
        let year = i64::from(u16::from_le_bytes(take(bytes, &mut at, 2)?.try_into().ok()?));
        let first_day = i64::from(i32::from_le_bytes(take(bytes, &mut at, 4)?.try_into().ok()?));
        let days = i64::from(u16::from_le_bytes(take(bytes, &mut at, 2)?.try_into().ok()?));
        let mut sources = Vec::new();
        for _ in 0..*take(bytes, &mut at, 1)?.first()? {
            let n = usize::from(*take(bytes, &mut at, 1)?.first()?);
            let name = String::from_utf8_lossy(take(bytes, &mut at, n)?).into_owned();
            let flags = *take(bytes, &mut at, 1)?.first()?;
            let coverage = take(bytes, &mut at, (days as usize).div_ceil(8))?.to_vec();
            sources.push(ShardSource { name, flags, coverage });
        }
        let spans_len = le32(bytes, &mut at)? as usize;
        let span_bytes = take(bytes, &mut at, spans_len)?;
        let mut s = 0;
        let count = get_varint(span_bytes, &mut s)?;
        let mut spans = Vec::with_capacity(count.min(1 << 20) as usize);
        for _ in 0..count {
            let first = first_day.checked_add(i64::try_from(get_varint(span_bytes, &mut s)?).ok()?)?;
            let last = first.checked_add(i64::try_from(get_varint(span_bytes, &mut s)?).ok()?)?;
            spans.push((first, last, get_varint(span_bytes, &mut s)?));
        }
        let part = |at: &mut usize| -> Option<std::ops::Range<usize>> {
            let len = le32(bytes, at)? as usize;
            let start = *at;
            take(bytes, at, len)?;
            Some(start..*at)
        };
        let (fst_at, keys_at, ids_at) = (part(&mut at)?, part(&mut at)?, part(&mut at)?);
        let slice = |r: std::ops::Range<usize>| -> Option<Cow<'static, [u8]>> {
            Some(match &blob {
                Cow::Borrowed(b) => Cow::Borrowed(b.get(r)?),
                Cow::Owned(b) => Cow::Owned(b.get(r)?.to_vec()),
            })
        };
        let map = fst::Map::new(slice(fst_at)?).ok()?;
        // fst trusts its bytes and indexes by them: a damaged shard (a bad download) must fail
        // here, on the fst's own checksum, rather than panic in a lookup.
        map.as_fst().verify().ok()?;
        let (keys, span_ids) = (slice(keys_at)?, slice(ids_at)?);
        Some(Shard { year, first_day, days, sources, spans, map, keys, span_ids })
    }

    /// Whether source `s` had a snapshot on `day` (false outside this shard's year).
    pub fn has_snapshot(&self, s: usize, day: i64) -> bool {
        let Some(source) = self.sources.get(s) else { return false };
        if day < self.first_day || day >= self.first_day + self.days {
            return false;
        }
        let i = (day - self.first_day) as usize;
        source.coverage.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// Days of this year with at least one snapshot of a source that `wanted` accepts.
    pub fn covered_days(&self, wanted: impl Fn(&ShardSource) -> bool) -> i64 {
        (self.first_day..self.first_day + self.days)
            .filter(|&d| self.sources.iter().enumerate().any(|(s, src)| wanted(src) && self.has_snapshot(s, d)))
            .count() as i64
    }

    /// The runs of one key in this year: (first day, last day, source mask), by first day.
    pub fn intervals(&self, key: &[u8]) -> Vec<(i64, i64, u64)> {
        let mut out = Vec::new();
        let Some(prefix) = key.get(..block_prefix_len(key)) else { return out };
        let Some(offset) = self.map.get(prefix) else { return out };
        let want = key_rest(key);
        let (keys, ids): (&[u8], &[u8]) = (&self.keys, &self.span_ids);
        let (mut k, mut s) = ((offset >> 32) as usize, (offset & 0xffff_ffff) as usize);
        let count = get_varint(keys, &mut k).unwrap_or(0);
        let mut address = 0u128;
        for _ in 0..count {
            let Some(delta) = get_varint128(keys, &mut k) else { break };
            address = address.saturating_add(delta >> 1);
            let port = if delta & 1 == 1 { get_varint(keys, &mut k).unwrap_or(0) as u16 } else { 0 };
            let here = (address, port) == want;
            loop {
                let Some(id) = get_varint(ids, &mut s) else { return out };
                if here {
                    out.extend(usize::try_from(id >> 1).ok().and_then(|i| self.spans.get(i)));
                }
                if id & 1 == 0 {
                    break;
                }
            }
            if here || (address, port) > want {
                break;
            }
        }
        // Written in (first, last) order: no sort needed.
        out
    }

    /// Blocks in this shard (for size reports).
    pub fn blocks(&self) -> usize {
        self.map.len()
    }
}
